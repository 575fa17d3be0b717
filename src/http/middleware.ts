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
import type { AuthContext, AuthCore } from '../core/auth.js';
import type { AssuranceLevel } from '../ports.js';
import { SessionDataHandle } from '../core/session-data.js';
import { clearCookie, readCookie } from './cookies.js';
import { csrfOptions, csrfVerdict, isUnsafeMethod } from './csrf.js';
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
    /** Why authentication failed, when a credential was presented. */
    authFailure?: 'invalid_token' | 'invalid_session' | 'csrf_rejected';
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

/** undefined: no Authorization header; null: present but not a well-formed bearer credential. */
export function bearerToken(req: IncomingMessage): string | null | undefined {
  const h = req.headers.authorization;
  if (h === undefined) return undefined;
  const m = BEARER.exec(h);
  return m ? m[1]! : null;
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
  readonly #core: AuthCore;
  readonly #dataMaxBytes: number;

  constructor(ctx: AuthContext, core: AuthCore, dataMaxBytes: number) {
    this.user = ctx.user;
    this.sessionId = ctx.sessionId;
    this.mode = ctx.mode;
    this.session = ctx.session;
    this.claims = ctx.claims;
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

export class Authenticator {
  private readonly cookieName: string;
  private readonly sameSite: (req: IncomingMessage) => boolean;

  constructor(
    private readonly core: AuthCore,
    private readonly dataMaxBytes: number,
    /** Migration from an old session cookie (express-session), when on. */
    private readonly legacy: LegacyCookies | null = null,
  ) {
    this.cookieName = core.config.session.cookieName;
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

  /**
   * The steady state without I/O or a promise: decides from the in-process caches when it can (the
   * same checks as `authenticate`) and returns true; false when `authenticate` must run.
   */
  authenticateCached(req: IncomingMessage, opts?: AuthGuardOptions): boolean {
    if (this.crossSite(req, opts)) return true;
    if (req.auth !== undefined || req.authFailure !== undefined) return true;
    const bearer = bearerToken(req);
    if (bearer !== undefined) {
      const ctx = bearer === null ? null : this.core.sessions.authenticateBearerCached(bearer);
      if (ctx === undefined) return false;
      if (ctx) req.auth = this.withData(ctx);
      else req.authFailure = 'invalid_token';
      return true;
    }
    const values = readCookie(req, this.cookieName);
    if (values.length === 0) return this.legacy === null || !this.legacy.present(req);
    const ctx = values.length === 1 ? this.core.sessions.authenticateCookieCached(values[0]) : null;
    if (ctx === undefined) return false;
    if (ctx) req.auth = this.withData(ctx);
    else req.authFailure = 'invalid_session';
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
    const bearer = bearerToken(req);
    if (bearer !== undefined) {
      const ctx = bearer === null ? null : await this.core.sessions.authenticateBearer(bearer);
      if (ctx) req.auth = this.withData(ctx);
      else req.authFailure = 'invalid_token';
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
    const ctx = values.length === 1 ? await this.core.sessions.authenticateCookie(values[0]) : null;
    if (ctx) req.auth = this.withData(ctx);
    else req.authFailure = 'invalid_session';
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
   * The 401: `invalid_token` + WWW-Authenticate for bearer requests, `unauthenticated` otherwise; or
   * 403 `csrf_rejected` for a cookie request the CSRF rule refused.
   */
  reject(req: IncomingMessage, res: ServerResponse): void {
    if (req.authFailure === 'csrf_rejected') return sendProblem(res, 'csrf_rejected');
    if (req.authFailure === 'invalid_token') return sendProblem(res, 'invalid_token');
    if (req.authFailure === 'invalid_session') clearCookie(res, this.cookieName, { path: '/', sameSite: 'Lax' });
    sendProblem(res, 'unauthenticated');
  }
}
