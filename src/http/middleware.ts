/**
 * Authentication of a request from a bearer token or the session cookie, framework-neutral (node:http
 * request and response), plus the 401 answer in the form that fits the credential presented.
 *
 * Cross-site request forgery on application routes: a POST, PUT, PATCH or DELETE that would be
 * authenticated by a cookie (ours, or the old session cookie during a migration) passes the same
 * Origin / Sec-Fetch-Site rule as Gatehouse's own routes (csrf.ts). A request the rule refuses is
 * treated as carrying no cookie at all — as a `SameSite=Strict` cookie would be — and is marked
 * `authFailure = 'csrf_rejected'`: `requireAuth` answers it 403 `csrf_rejected`, `authenticate` lets it
 * through signed out. Bearer requests are not checked (a page cannot forge the header). A route opts
 * out with `{ csrf: false }`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseDuration } from '../config.js';
import { isPopRefusal, type AuthContext, type AuthCore, type PopRefusal, type TokenPresentation } from '../core/auth.js';
import { SessionDataHandle } from '../core/session-data.js';
import type { AssuranceLevel } from '../ports.js';
import { clearCookie, readCookie } from './cookies.js';
import { csrfOptions, csrfVerdict, isUnsafeMethod } from './csrf.js';
import { dpopHeader, requestUrl, sendDpopProblem } from './dpop.js';
import type { LegacyCookies } from './legacy.js';
import { sendProblem } from './problem.js';

/** Declare your session data's shape by merging into this interface. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface GatehouseSessionData {}

export interface RequestAuth extends AuthContext {
  /** Loads this session's application data (one store read, on demand). */
  data<T extends object = GatehouseSessionData>(): Promise<SessionDataHandle<T>>;
}

declare module 'node:http' {
  interface IncomingMessage {
    /** Set by `authenticate` when the request carries a valid session cookie or bearer token. */
    auth?: RequestAuth;
    /**
     * Why authentication failed, when a credential was presented: a bad token or session cookie, a
     * bad or nonce-less DPoP proof, a device-bound cookie session without its live bound cookie, or a
     * cookie request from another site (the CSRF rule).
     */
    authFailure?: 'invalid_token' | 'invalid_session' | 'csrf_rejected' | PopRefusal['refused'];
  }
}

/** Per-route options of `requireAuth` / `authenticate`. */
export interface AuthGuardOptions {
  /**
   * Apply the cross-site request check to cookie-authenticated POST, PUT, PATCH and DELETE requests
   * (default true). `false` only for a route that must take cookie-authenticated requests from other
   * sites and protects itself some other way.
   */
  csrf?: boolean;
}


const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;
const DPOP = /^DPoP +([A-Za-z0-9\-._~+/]+=*) *$/i;

/** undefined: no Authorization header; null: present but not a well-formed bearer credential. */
export function bearerToken(req: IncomingMessage): string | null | undefined {
  const h = req.headers.authorization;
  if (h === undefined) return undefined;
  const m = BEARER.exec(h);
  return m ? m[1]! : null;
}

/**
 * The access token of the Authorization header and how it is presented: `Bearer` (RFC 6750) or
 * `DPoP` (RFC 9449). undefined: no header; null: present but neither.
 */
export function accessToken(req: IncomingMessage): { scheme: 'Bearer' | 'DPoP'; token: string } | null | undefined {
  const h = req.headers.authorization;
  if (h === undefined) return undefined;
  let m = BEARER.exec(h);
  if (m) return { scheme: 'Bearer', token: m[1]! };
  m = DPOP.exec(h);
  return m ? { scheme: 'DPoP', token: m[1]! } : null;
}

/**
 * `req.auth`: the context's fields plus `data()` on the prototype, so a request allocates one object
 * and no closure. The core it reads data through is a private field (not enumerable, not serialised).
 */
class AuthOnRequest implements RequestAuth {
  readonly user: AuthContext['user'];
  readonly sessionId: string;
  readonly mode: AuthContext['mode'];
  readonly session: AuthContext['session'];
  readonly claims: AuthContext['claims'];
  readonly binding: AuthContext['binding'];
  readonly #core: AuthCore;
  readonly #dataMaxBytes: number;

  constructor(ctx: AuthContext, core: AuthCore, dataMaxBytes: number) {
    this.user = ctx.user;
    this.sessionId = ctx.sessionId;
    this.mode = ctx.mode;
    this.session = ctx.session;
    this.claims = ctx.claims;
    this.binding = ctx.binding;
    this.#core = core;
    this.#dataMaxBytes = dataMaxBytes;
  }

  async data<T extends object = GatehouseSessionData>(): Promise<SessionDataHandle<T>> {
    const data = await this.#core.sessions.data(this.sessionId);
    return new SessionDataHandle<T>(this.#core.sessions, this.sessionId, data ?? {}, this.#dataMaxBytes);
  }
}

/**
 * What a protected route asks of the request's authentication beyond its presence: an assurance level
 * (`aal2`: two factors or a passkey) and how recently the user proved themselves (`maxAge`, a duration
 * such as `'10m'` or milliseconds). Cookie sessions answer from the session record; bearer tokens from
 * their `acr` and `auth_time` claims (a client refreshes after a step-up to carry the new ones).
 *
 * @example
 *   app.post('/api/transfer', gh.requireAuth({ acr: 'aal2', maxAge: '10m' }), handler);
 */
export interface AuthRequirement {
  acr?: AssuranceLevel;
  maxAge?: string | number;
}

/** What `requireAuth(options)` takes on every adapter: a requirement, and the route's CSRF choice. */
export type RequireAuthOptions = AuthRequirement & AuthGuardOptions;

/** Validates a requirement once (misuse is a TypeError at set-up) and returns its check: null when met, else the level to ask for. */
export function compileRequirement(req: AuthRequirement | undefined): ((auth: AuthContext, now: number) => AssuranceLevel | null) | null {
  if (req === undefined) return null;
  if (typeof req !== 'object' || req === null) throw new TypeError('requireAuth() takes { acr?, maxAge? }');
  if (req.acr !== undefined && req.acr !== 'aal1' && req.acr !== 'aal2') throw new TypeError(`requireAuth: acr must be 'aal1' or 'aal2', not ${JSON.stringify(req.acr)}`);
  let maxAgeMs: number | null = null;
  if (req.maxAge !== undefined) {
    try {
      maxAgeMs = parseDuration(req.maxAge);
    } catch (e) {
      throw new TypeError(`requireAuth: ${(e as Error).message}`);
    }
    if (!Number.isFinite(maxAgeMs) || maxAgeMs <= 0) throw new TypeError('requireAuth: maxAge must be a positive duration');
  }
  const acr = req.acr ?? 'aal1';
  if (acr === 'aal1' && maxAgeMs === null) return null;
  return (auth, now) => {
    const level = auth.session?.acr ?? (auth.claims?.acr === 'aal2' ? 'aal2' : 'aal1');
    const authAt = auth.session?.authAt ?? (auth.claims?.auth_time ?? 0) * 1000;
    if (acr === 'aal2' && level !== 'aal2') return acr;
    if (maxAgeMs !== null && now - authAt > maxAgeMs) return acr;
    return null;
  };
}

/** Watches request authentication (metrics, traces); see src/observability/http.ts. */
export interface AuthObserver {
  /** A credential was decided from the in-process caches. */
  cached(transport: 'cookie' | 'bearer'): void;
  /** A credential needed verification or the store: runs that (and may trace it). */
  uncached(transport: 'cookie' | 'bearer', run: () => Promise<void>): Promise<void>;
}

export class Authenticator {
  /** Set by the composition when metrics or traces are on. */
  observer: AuthObserver | null = null;
  private readonly cookieName: string;
  private readonly boundCookieName: string;
  private readonly origin: string;
  /** The nonce to answer a `use_dpop_nonce` refusal with, fetched while authenticating. */
  private readonly nonces = new WeakMap<IncomingMessage, string>();
  private readonly sameSite: (req: IncomingMessage) => boolean;

  constructor(
    private readonly core: AuthCore,
    private readonly dataMaxBytes: number,
    /** Migration from an old session cookie (express-session), when on. */
    private readonly legacy: LegacyCookies | null = null,
  ) {
    this.cookieName = core.config.session.cookieName;
    this.boundCookieName = core.config.dbsc.cookieName;
    this.origin = new URL(core.config.publicUrl).origin;
    this.sameSite = csrfVerdict(csrfOptions(core.config));
  }

  /**
   * Marks a forged-looking request (unsafe method, no Authorization, a session cookie, refused by the
   * CSRF rule) and returns true, dropping any auth an earlier middleware set from that cookie: each
   * guard applies its own route's rule. A route that opted out clears an earlier mark and returns false.
   */
  private crossSite(req: IncomingMessage, opts: AuthGuardOptions | undefined): boolean {
    if (opts?.csrf === false) {
      if (req.authFailure === 'csrf_rejected') req.authFailure = undefined;
      return false;
    }
    if (!isUnsafeMethod(req.method) || req.headers.authorization !== undefined) return false;
    if (req.authFailure === 'csrf_rejected') return true;
    const cookie = readCookie(req, this.cookieName).length > 0 || (this.legacy !== null && this.legacy.present(req));
    if (!cookie || this.sameSite(req)) return false;
    req.auth = undefined;
    req.authFailure = 'csrf_rejected';
    return true;
  }

  private withData(ctx: AuthContext): RequestAuth {
    return new AuthOnRequest(ctx, this.core, this.dataMaxBytes);
  }

  private settle(req: IncomingMessage, r: AuthContext | PopRefusal | null, failure: 'invalid_token' | 'invalid_session'): void {
    if (r === null) req.authFailure = failure;
    else if (isPopRefusal(r)) req.authFailure = r.refused;
    else req.auth = this.withData(r);
  }

  /** The bound cookie of a DBSC session, read only when the request carries one. */
  private boundCookie(req: IncomingMessage): string | undefined {
    const raw = req.headers.cookie;
    if (raw === undefined || !raw.includes(this.boundCookieName)) return undefined;
    const values = readCookie(req, this.boundCookieName);
    return values.length === 1 ? values[0] : undefined;
  }

  /**
   * The steady state without I/O or a promise: decides from the in-process caches when it can (the
   * same checks as `authenticate`) and returns true; false when `authenticate` must run (always for a
   * DPoP-bound token, whose proof is verified per request).
   */
  authenticateCached(req: IncomingMessage, opts?: AuthGuardOptions): boolean {
    if (this.crossSite(req, opts)) return true;
    if (req.auth !== undefined || req.authFailure !== undefined) return true;
    const t = accessToken(req);
    if (t !== undefined) {
      if (t !== null && t.scheme === 'DPoP') return false;
      const ctx = t === null ? null : this.core.sessions.authenticateBearerCached(t.token);
      if (ctx === undefined) return false;
      this.observer?.cached('bearer');
      this.settle(req, ctx, 'invalid_token');
      return true;
    }
    const values = readCookie(req, this.cookieName);
    if (values.length === 0) return this.legacy === null || !this.legacy.present(req);
    const ctx = values.length === 1 ? this.core.sessions.authenticateCookieCached(values[0], this.boundCookie(req)) : null;
    if (ctx === undefined) return false;
    this.observer?.cached('cookie');
    this.settle(req, ctx, 'invalid_session');
    return true;
  }

  /**
   * Sets `req.auth` (or `req.authFailure`). An Authorization header, when present, is the credential:
   * a bad bearer token is not rescued by a cookie. Two session cookies of our name are no credential.
   * With migration on and `res` given, a request with neither but a valid old session cookie gets a
   * Gatehouse session in its place (cookies set on `res`).
   */
  async authenticate(req: IncomingMessage, res?: ServerResponse, opts?: AuthGuardOptions): Promise<void> {
    if (this.authenticateCached(req, opts)) return;
    const o = this.observer;
    if (o !== null) return o.uncached(req.headers.authorization !== undefined ? 'bearer' : 'cookie', () => this.verify(req, res));
    return this.verify(req, res);
  }

  /** Authentication past the caches: token verification, the store, the old-cookie migration. */
  private async verify(req: IncomingMessage, res: ServerResponse | undefined): Promise<void> {
    const t = accessToken(req);
    if (t !== undefined) {
      if (t === null) {
        req.authFailure = 'invalid_token';
        return;
      }
      const how: TokenPresentation =
        t.scheme === 'DPoP' ? { scheme: 'DPoP', dpop: { proof: dpopHeader(req), method: req.method ?? 'GET', url: requestUrl(req, this.origin) } } : { scheme: 'Bearer' };
      const r = await this.core.sessions.authenticateBearer(t.token, how);
      this.settle(req, r, 'invalid_token');
      if (how.scheme === 'DPoP' && this.core.dpop.policy.nonce && (req.auth !== undefined || req.authFailure === 'use_dpop_nonce')) {
        // Every DPoP answer carries the current nonce, so clients move to a new one before the old expires.
        const nonce = await this.core.dpop.nonce();
        this.nonces.set(req, nonce);
        if (res && !res.headersSent) res.setHeader('DPoP-Nonce', nonce);
      }
      return;
    }
    const values = readCookie(req, this.cookieName);
    if (values.length === 0) {
      if (this.legacy && res && this.legacy.present(req)) {
        const ctx = await this.legacy.migrate(req, res);
        if (ctx) req.auth = this.withData(ctx);
      }
      return;
    }
    const r = values.length === 1 ? await this.core.sessions.authenticateCookie(values[0], this.boundCookie(req)) : null;
    this.settle(req, r, 'invalid_session');
  }

  /**
   * After authentication: true when the request meets `check`; otherwise answers (401 without a
   * credential, 403 `reauth_required` naming the level when it is too weak or too old) and returns false.
   */
  decide(req: IncomingMessage, res: ServerResponse, check: ReturnType<typeof compileRequirement>): boolean {
    if (!req.auth) {
      this.reject(req, res);
      return false;
    }
    const need = check ? check(req.auth, this.core.now()) : null;
    if (need === null) return true;
    sendProblem(res, 'reauth_required', { acr: need });
    return false;
  }

  /**
   * The 401 in the form that fits the credential presented: `invalid_token` with `WWW-Authenticate`
   * for tokens (`DPoP` or `Bearer`, RFC 9449 / RFC 6750), `invalid_dpop_proof` and `use_dpop_nonce`
   * (with `DPoP-Nonce`) for proofs, `unauthenticated` otherwise. A session cookie that is no longer
   * valid is cleared; the cookie of a device-bound session without its bound cookie is not (the
   * browser renews the bound cookie, and a copy elsewhere gains nothing from keeping it). A cookie
   * request the CSRF rule refused gets 403 `csrf_rejected`.
   */
  reject(req: IncomingMessage, res: ServerResponse): void {
    const f = req.authFailure;
    if (f === 'csrf_rejected') return sendProblem(res, 'csrf_rejected');
    if (f === 'invalid_dpop_proof' || f === 'use_dpop_nonce') return sendDpopProblem(res, f, this.nonces.get(req));
    if (f === 'invalid_token') {
      if (accessToken(req)?.scheme === 'DPoP') return sendDpopProblem(res, 'invalid_token');
      return sendProblem(res, 'invalid_token');
    }
    if (f === 'invalid_session') clearCookie(res, this.cookieName, { path: '/', sameSite: 'Lax' });
    if (f === 'device_unverified') return sendProblem(res, 'unauthenticated', { detail: 'This session is bound to a device key; its bound cookie is missing or expired.' });
    sendProblem(res, 'unauthenticated');
  }
}
