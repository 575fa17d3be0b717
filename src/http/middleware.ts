/**
 * `authenticate` (sets req.auth from a bearer token or the session cookie, or leaves it undefined)
 * and `requireAuth()` (401 in the form that fits the credential that was presented).
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { AuthContext, AuthCore } from '../core/auth.js';
import { clearCookie, readCookie } from './cookies.js';
import { sendProblem } from './problem.js';
import { SessionDataHandle } from '../core/session-data.js';

/** Declare your session data's shape by merging into this interface. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface GatehouseSessionData {}

export interface RequestAuth extends AuthContext {
  /** Loads this session's application data (one store read, on demand). */
  data<T extends object = GatehouseSessionData>(): Promise<SessionDataHandle<T>>;
}

declare module 'express-serve-static-core' {
  interface Request {
    /** Set by `authenticate` when the request carries a valid session cookie or bearer token. */
    auth?: RequestAuth;
    /** Why authentication failed, when a credential was presented. */
    authFailure?: 'invalid_token' | 'invalid_session';
  }
}

const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

export function bearerToken(req: Request): string | null | undefined {
  const h = req.headers.authorization;
  if (h === undefined) return undefined; // no header: not a bearer request
  const m = BEARER.exec(h);
  return m ? m[1]! : null; // present but malformed: a failed bearer request
}

export function makeAuthenticate(core: AuthCore, dataMaxBytes: number): RequestHandler {
  const cookieName = core.config.session.cookieName;
  const withData = (ctx: AuthContext): RequestAuth => ({
    ...ctx,
    data: async <T extends object>() => {
      const data = await core.sessions.getData(ctx.sessionId);
      return new SessionDataHandle<T>(core.sessions, ctx.sessionId, data ?? {}, dataMaxBytes);
    },
  });
  return (req: Request, _res: Response, next: NextFunction) => {
    if (req.auth !== undefined) return next();
    const bearer = bearerToken(req);
    if (bearer !== undefined) {
      if (bearer === null) {
        req.authFailure = 'invalid_token';
        return next();
      }
      core.authenticateBearer(bearer).then((ctx) => {
        if (ctx) req.auth = withData(ctx);
        else req.authFailure = 'invalid_token';
        next();
      }, next);
      return;
    }
    const values = readCookie(req, cookieName);
    if (values.length === 0) return next();
    if (values.length > 1) {
      req.authFailure = 'invalid_session';
      return next();
    }
    core.authenticateCookie(values[0]).then((ctx) => {
      if (ctx) req.auth = withData(ctx);
      else req.authFailure = 'invalid_session';
      next();
    }, next);
  };
}

/** 401 unless `authenticate` accepted a credential: `invalid_token` + WWW-Authenticate for bearer, `unauthenticated` otherwise. */
export function makeRequireAuth(core: AuthCore): () => RequestHandler {
  const cookieName = core.config.session.cookieName;
  return () => (req: Request, res: Response, next: NextFunction) => {
    if (req.auth) return next();
    if (req.authFailure === 'invalid_token') return sendProblem(res, 'invalid_token');
    if (req.authFailure === 'invalid_session') clearCookie(res, cookieName, { path: '/', sameSite: 'Lax' });
    sendProblem(res, 'unauthenticated');
  };
}
