// The public HTTP API, as a browser client: a session cookie, or an access token held in memory
// with the refresh token in an HttpOnly cookie. Nothing is written to web storage.
import { decodeJwt } from './jwt.js';

export const auth = { mode: null, user: null, session: null, accessToken: null, jwt: null };

/**
 * How often a visible page asks whether its session still lives (GET /auth/session, which does not
 * extend the idle expiry). A session ended elsewhere shows within this bound while the page is
 * visible, and at once when it becomes visible again or regains focus.
 */
export const WATCH_MS = 5000;

const hooks = { signedOut: () => {}, reauth: async () => false };
const logListeners = new Set();
const changeListeners = new Set();
const history = [];
let refreshTimer = 0;
let watchTimer = 0;
let refreshing = null;
let checking = null;
/** performance.now() of the last check that found the session alive. */
let lastAlive = 0;

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

/**
 * Sign-in changes, for pages that show them live: `{ type: 'checked' }` after each liveness check,
 * `{ type: 'token' }` after a new access token, `{ type: 'ended', reason, credentials, noticedAfter }`
 * when the sign-in ended (the credentials the page held, for the explorer to replay).
 */
export function onChange(fn) {
  changeListeners.add(fn);
  return () => changeListeners.delete(fn);
}
function emit(e) {
  for (const fn of changeListeners) fn(e);
}

/** The JSON body, or null for a response without one. */
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
  const started = performance.now();
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      cache: 'no-store',
      body: opts.json === undefined ? undefined : JSON.stringify(opts.json),
    });
  } catch {
    return { ok: false, status: 0, body: null, code: 'network', retryAfter: null, ms: performance.now() - started };
  }
  const body = await readBody(res);
  const out = { ok: res.ok, status: res.status, body, code: body && typeof body.code === 'string' ? body.code : null, retryAfter: retryAfterSeconds(res), ms: performance.now() - started };
  // Only a refused credential ends the sign-in; a wrong password (invalid_credentials) does not.
  const refused = res.status === 401 && (out.code === 'unauthenticated' || out.code === 'invalid_token' || out.code === null);
  if (refused && !opts.noAuth && !opts.bearer && auth.mode) {
    if (auth.mode === 'token' && opts.retry !== false) {
      log('log.tokenRejected');
      if (await refresh('rejected')) return request(method, path, { ...opts, retry: false });
    }
    endLocal(endReason());
  }
  return out;
}

/**
 * Runs `call`; when the API asks for a recent authentication (403 reauth_required) prompts for what
 * the level needs (`acr`: the password, or the second factor), re-authenticates and retries. A cancelled
 * prompt resolves `{ cancelled: true }`: nothing happened, nothing to report.
 */
export async function withReauth(call) {
  let res = await call();
  while (res.status === 403 && res.code === 'reauth_required') {
    const ok = await hooks.reauth((body) => request('POST', '/auth/reauth', { json: body }), { acr: res.body?.acr ?? 'aal1' });
    if (!ok) return { ...res, cancelled: true };
    res = await call();
  }
  return res;
}

/** Takes a new access token (and the session and user that came with it). */
function adoptGrant(body, announce = () => {}) {
  auth.accessToken = body.access_token;
  auth.jwt = decodeJwt(body.access_token);
  auth.user = body.user ?? auth.user;
  auth.session = body.session ?? auth.session;
  auth.mode = 'token';
  announce();
  scheduleRefresh();
  emit({ type: 'token' });
}

/** Refreshes shortly before expiry: a tenth of the lifetime early, at most 30 s, at least 0.5 s. */
export function refreshLead() {
  const c = auth.jwt?.claims;
  if (!c || typeof c.exp !== 'number') return 0;
  const life = (c.exp - (c.iat ?? c.exp)) * 1000;
  return Math.min(30_000, Math.max(500, life / 10));
}

function scheduleRefresh() {
  clearTimeout(refreshTimer);
  const c = auth.jwt?.claims;
  if (!c || typeof c.exp !== 'number') return;
  const delay = Math.max(0, c.exp * 1000 - Date.now() - refreshLead());
  log('log.refreshScheduled', { seconds: Math.round(delay / 100) / 10 });
  refreshTimer = setTimeout(async () => {
    // A refused refresh means the session is over (revoked, expired, reused): back to sign-in.
    if (!(await refresh('scheduled')) && auth.mode === 'token') endLocal(endReason());
  }, delay);
}

/**
 * Bumped whenever this page forgets its sign-in (endLocal): a refresh begun before is not adopted when it
 * answers after, or a session revoked meanwhile would come back on screen with tokens the server refuses.
 */
let generation = 0;

/** POST /auth/refresh with the HttpOnly cookie; one in flight at a time. */
export function refresh(reason = 'scheduled') {
  refreshing ??= (async () => {
    const began = generation;
    try {
      const res = await fetch('/auth/refresh', { method: 'POST', credentials: 'same-origin', cache: 'no-store', headers: { accept: 'application/json' } });
      const body = await readBody(res);
      if (began !== generation) return false;
      if (res.ok && body && body.access_token) {
        const old = auth.jwt?.claims?.jti;
        adoptGrant(body, () => log(reason === 'restore' ? 'log.restored' : 'log.refreshed', { old: short(old), jti: short(auth.jwt?.claims?.jti), status: res.status }));
        return true;
      }
      lastFailure = { status: res.status, code: body?.error ?? body?.code ?? '' };
      if (reason !== 'restore') log('log.refreshFailed', { status: res.status, code: body?.code ?? body?.error ?? '' });
      return false;
    } catch {
      lastFailure = { status: 0, code: 'network' };
      log('log.refreshFailed', { status: 0, code: 'network' });
      return false;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

let lastFailure = null;
/** The answer to the last refused refresh ({ status, code }), or null. */
export function lastRefreshFailure() {
  return lastFailure;
}

const short = (s) => (typeof s === 'string' ? s.slice(0, 8) + '…' : '—');

/**
 * Finds out who is signed in on page load, without an error answer for a signed-out browser: the
 * session check (200 with null when there is no session), then the refresh cookie only if there is one.
 */
export async function restore() {
  const now = await fetchJson('/auth/session');
  if (now?.user) {
    auth.mode = 'session';
    auth.user = now.user;
    auth.session = now.session;
    startWatch();
    return true;
  }
  const probe = await fetchJson('/auth/refresh');
  if (probe?.refresh_cookie && (await refresh('restore'))) {
    startWatch();
    return true;
  }
  endLocal(null);
  return false;
}

async function fetchJson(path) {
  try {
    const res = await fetch(path, { credentials: 'same-origin', cache: 'no-store', headers: { accept: 'application/json' } });
    return res.ok ? await readBody(res) : null;
  } catch {
    return null;
  }
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
  startWatch();
  return res;
}

/** Signs this device out on the server, then here. */
export async function logout() {
  const res = await request('POST', '/auth/logout');
  if (res.ok || res.status === 401) endLocal(null);
  return res;
}

/** Why a sign-in that was working stopped: its known expiry passed, or it was ended elsewhere. */
function endReason() {
  const s = auth.session;
  const now = Date.now();
  if (auth.mode === 'session' && s) {
    const end = Math.min(Date.parse(s.idle_expires_at ?? s.expires_at), Date.parse(s.expires_at));
    if (now >= end) return 'expired';
  }
  if (auth.mode === 'token' && s && now >= Date.parse(s.expires_at)) return 'expired';
  return 'revoked';
}

// ------------------------------------------------------------------ watching for the end

function startWatch() {
  clearInterval(watchTimer);
  lastAlive = performance.now();
  watchTimer = setInterval(() => {
    if (document.visibilityState === 'visible') void check();
  }, WATCH_MS);
}

function stopWatch() {
  clearInterval(watchTimer);
  watchTimer = 0;
}

/** Asks the API whether this sign-in still lives; ends it here if not. One check at a time. */
export function check() {
  if (!auth.mode) return Promise.resolve(false);
  checking ??= (async () => {
    try {
      const before = performance.now();
      const res = await request('GET', '/auth/session');
      if (!auth.mode) return false; // a refused token ended it inside request()
      if (res.ok && res.body?.user) {
        auth.user = res.body.user;
        if (auth.mode === 'session') auth.session = res.body.session;
        lastAlive = before;
        emit({ type: 'checked' });
        return true;
      }
      if (res.ok) endLocal(endReason());
      return false;
    } finally {
      checking = null;
    }
  })();
  return checking;
}

if (typeof document !== 'undefined') {
  const soon = () => {
    if (document.visibilityState === 'visible' && auth.mode) void check();
  };
  document.addEventListener('visibilitychange', soon);
  window.addEventListener('focus', soon);
  window.addEventListener('online', soon);
}

/** Forgets everything held in memory (the server side is ended by the caller's API request). */
export function endLocal(reason) {
  generation++;
  const was = auth.mode;
  const credentials = { mode: was, accessToken: auth.accessToken, sessionId: auth.session?.id ?? auth.jwt?.claims?.sid ?? null };
  clearTimeout(refreshTimer);
  stopWatch();
  auth.mode = null;
  auth.user = null;
  auth.session = null;
  auth.accessToken = null;
  auth.jwt = null;
  if (!was) return;
  const noticedAfter = performance.now() - lastAlive;
  const e = { type: 'ended', reason, credentials, noticedAfter };
  emit(e);
  if (reason) hooks.signedOut(reason, e);
}
