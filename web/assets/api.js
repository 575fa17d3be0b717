// The public HTTP API, as a browser client: a session cookie, or an access token held in memory
// with the refresh token in an HttpOnly cookie. Nothing is written to web storage.
import { decodeJwt } from './jwt.js';

export const auth = { mode: null, user: null, session: null, accessToken: null, jwt: null };

const hooks = { signedOut: () => {}, reauth: async () => null };
const logListeners = new Set();
const history = [];
let refreshTimer = 0;
let refreshing = null;

export function setHooks(h) {
  Object.assign(hooks, h);
}

/** The token lifecycle, kept so the explorer can show what happened before it was opened. */
export function logHistory() {
  return history.slice();
}
export function onLog(fn) {
  logListeners.add(fn);
  return () => logListeners.delete(fn);
}
function log(key, vars = {}) {
  const entry = { at: Date.now(), key, vars };
  history.push(entry);
  if (history.length > 100) history.shift();
  for (const fn of logListeners) fn(entry);
}

/** A problem body (RFC 9457) or a stand-in for a response that has none. */
async function readBody(res) {
  const text = await res.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

export function retryAfterSeconds(res) {
  const v = res.headers.get('Retry-After');
  if (!v) return null;
  if (/^\d+$/.test(v.trim())) return Number(v);
  const when = Date.parse(v);
  return Number.isNaN(when) ? null : Math.max(1, Math.ceil((when - Date.now()) / 1000));
}

/**
 * One API call. `bearer` overrides the in-memory token (the explorer replays a revoked one);
 * `noAuth` sends no Authorization header. A rejected access token is refreshed once and retried.
 */
export async function request(method, path, opts = {}) {
  const headers = { accept: 'application/json' };
  if (opts.json !== undefined) headers['content-type'] = 'application/json';
  const bearer = opts.bearer ?? (opts.noAuth ? null : auth.accessToken);
  if (bearer) headers.authorization = `Bearer ${bearer}`;
  const res = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    cache: 'no-store',
    body: opts.json === undefined ? undefined : JSON.stringify(opts.json),
  });
  const body = await readBody(res);
  const out = { ok: res.ok, status: res.status, body, code: body && typeof body.code === 'string' ? body.code : null, retryAfter: retryAfterSeconds(res) };
  // Only a refused credential ends the sign-in; a wrong password (invalid_credentials) does not.
  const refused = res.status === 401 && (out.code === 'unauthenticated' || out.code === 'invalid_token' || out.code === null);
  if (refused && !opts.noAuth && !opts.bearer && auth.mode) {
    if (auth.mode === 'token' && opts.retry !== false) {
      log('log.tokenRejected');
      if (await refresh('rejected')) return request(method, path, { ...opts, retry: false });
    }
    endLocal('ended');
  }
  return out;
}

/**
 * Runs `call`; when the API asks for a recent authentication (403 reauth_required) prompts for what
 * the level needs (`acr`: the password, or the second factor), re-authenticates and retries.
 */
export async function withReauth(call) {
  let res = await call();
  while (res.status === 403 && res.code === 'reauth_required') {
    const ok = await hooks.reauth((body) => request('POST', '/auth/reauth', { json: body }), { acr: res.body?.acr ?? 'aal1' });
    if (!ok) return res;
    res = await call();
  }
  return res;
}

/** Takes a new access token; `announce` logs its arrival before the next refresh is scheduled. */
function adoptGrant(body, announce = () => {}) {
  auth.accessToken = body.access_token;
  auth.jwt = decodeJwt(body.access_token);
  auth.user = body.user ?? auth.user;
  auth.mode = 'token';
  announce();
  scheduleRefresh();
}

/** Refreshes shortly before expiry: a tenth of the lifetime early, at most 30 s, at least 0.5 s. */
function scheduleRefresh() {
  clearTimeout(refreshTimer);
  const c = auth.jwt?.claims;
  if (!c || typeof c.exp !== 'number') return;
  const life = (c.exp - (c.iat ?? c.exp)) * 1000;
  const lead = Math.min(30_000, Math.max(500, life / 10));
  const delay = Math.max(0, c.exp * 1000 - Date.now() - lead);
  log('log.refreshScheduled', { seconds: Math.round(delay / 100) / 10 });
  refreshTimer = setTimeout(async () => {
    // A refused refresh means the session is over (revoked, expired, reused): back to sign-in.
    if (!(await refresh('scheduled')) && auth.mode === 'token') endLocal('ended');
  }, delay);
}

/** POST /auth/refresh with the HttpOnly cookie; one in flight at a time. */
export function refresh(reason = 'scheduled') {
  refreshing ??= (async () => {
    try {
      const res = await fetch('/auth/refresh', { method: 'POST', credentials: 'same-origin', cache: 'no-store', headers: { accept: 'application/json' } });
      const body = await readBody(res);
      if (res.ok && body && body.access_token) {
        const old = auth.jwt?.claims?.jti;
        adoptGrant(body, () => log(reason === 'restore' ? 'log.restored' : 'log.refreshed', { old: short(old), jti: short(auth.jwt?.claims?.jti), status: res.status }));
        return true;
      }
      if (reason !== 'restore') log('log.refreshFailed', { status: res.status, code: body?.code ?? body?.error ?? '' });
      return false;
    } catch {
      log('log.refreshFailed', { status: 0, code: 'network' });
      return false;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

const short = (s) => (typeof s === 'string' ? s.slice(0, 8) + '…' : '—');

/** Finds out who is signed in on page load: the session cookie first, then the refresh cookie. */
export async function restore() {
  const me = await fetchMe(null);
  if (me) {
    auth.mode = 'session';
    auth.user = me.user;
    auth.session = me.session;
    return true;
  }
  if (await refresh('restore')) {
    const again = await fetchMe(auth.accessToken);
    if (again) {
      auth.user = again.user;
      auth.session = again.session;
      return true;
    }
  }
  endLocal(null);
  return false;
}

async function fetchMe(bearer) {
  const headers = { accept: 'application/json' };
  if (bearer) headers.authorization = `Bearer ${bearer}`;
  const res = await fetch('/auth/me', { credentials: 'same-origin', cache: 'no-store', headers });
  if (!res.ok) return null;
  return readBody(res);
}

export async function register(email, password) {
  return request('POST', '/auth/register', { json: { email, password }, noAuth: true });
}

/** A password sign-in waiting for its second factor: the mfa_token stays in this page's memory only. */
let pendingMfa = null;

export function pendingSignIn() {
  return pendingMfa;
}

export async function login(email, password, mode) {
  const json = mode === 'token' ? { email, password, mode: 'token', refresh_transport: 'cookie' } : { email, password };
  const res = await request('POST', '/auth/login', { json, noAuth: true });
  if (res.status === 401 && res.code === 'mfa_required') {
    pendingMfa = { token: res.body.mfa_token, methods: res.body.methods ?? [], webauthn: res.body.webauthn ?? null, mode, email };
    return res;
  }
  if (!res.ok) return res;
  return signedIn(res, mode);
}

/** Finishes the pending sign-in with `{ totp }`, `{ recovery_code }` or `{ webauthn }`. */
export async function completeMfa(answer) {
  const p = pendingMfa;
  if (!p) return { ok: false, status: 401, code: 'invalid_mfa_token', body: null, retryAfter: null };
  const res = await request('POST', '/auth/login/mfa', { json: { mfa_token: p.token, ...answer }, noAuth: true });
  if (res.ok) {
    pendingMfa = null;
    return signedIn(res, p.mode);
  }
  if (res.code === 'invalid_mfa_token') pendingMfa = null;
  return res;
}

/** Passkey options for the pending sign-in: the ones it came with first, fresh ones after a try. */
export async function mfaPasskeyOptions() {
  const p = pendingMfa;
  if (!p) return null;
  if (p.webauthn) {
    const o = p.webauthn;
    p.webauthn = null;
    return o;
  }
  const res = await request('POST', '/auth/login/mfa/options', { json: { mfa_token: p.token }, noAuth: true });
  return res.ok ? res.body : null;
}

/** Passwordless sign-in: `getAssertion(options)` runs the browser ceremony (null when cancelled). */
export async function passkeyLogin(mode, getAssertion) {
  const opts = await request('POST', '/auth/passkeys/login/options', { json: {}, noAuth: true });
  if (!opts.ok) return opts;
  const response = await getAssertion(opts.body);
  if (!response) return { ok: false, status: 0, code: 'cancelled', body: null, retryAfter: null };
  const json = mode === 'token' ? { response, mode: 'token', refresh_transport: 'cookie' } : { response };
  const res = await request('POST', '/auth/passkeys/login', { json, noAuth: true });
  if (!res.ok) return res;
  return signedIn(res, mode);
}

function signedIn(res, mode) {
  clearTimeout(refreshTimer);
  if (mode === 'token') {
    adoptGrant(res.body, () => log('log.login', { jti: short(auth.jwt?.claims?.jti) }));
  } else {
    auth.mode = 'session';
    auth.accessToken = null;
    auth.jwt = null;
  }
  auth.user = res.body.user;
  auth.session = res.body.session ?? null;
  return res;
}

/** Forgets everything held in memory (the server side is ended by the caller's API request). */
export function endLocal(reason) {
  const was = auth.mode;
  clearTimeout(refreshTimer);
  auth.mode = null;
  auth.user = null;
  auth.session = null;
  auth.accessToken = null;
  auth.jwt = null;
  if (was && reason) hooks.signedOut(reason);
}
