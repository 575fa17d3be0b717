/** Small helpers shared by the route modules: async handlers, 405s, and the JSON shapes of the API. */
import type { NextFunction, Request, RequestHandler, Response, Router } from 'express';
import type { Account } from '../../core/account.js';
import type { AuthCore } from '../../core/auth.js';
import type { PublicUser } from '../../core/users.js';
import type { SessionRecord } from '../../ports.js';
import { sendProblem } from '../problem.js';

export interface RouteContext {
  core: AuthCore;
  account: Account;
  /** Where the auth router is mounted, e.g. `/auth` (the refresh cookie is scoped under it). */
  basePath: string;
  requireAuth: () => RequestHandler;
}

type Handler = (req: Request, res: Response) => Promise<void> | void;
type Method = 'get' | 'post' | 'delete' | 'put' | 'patch';

export const wrap =
  (h: Handler): RequestHandler =>
  (req: Request, res: Response, next: NextFunction) => {
    try {
      Promise.resolve(h(req, res)).catch(next);
    } catch (e) {
      next(e);
    }
  };

/** Registers handlers for one path, and answers 405 with `Allow` for any other method. */
export function route(router: Router, path: string, methods: Partial<Record<Method, RequestHandler[]>>): void {
  const allow = Object.keys(methods).map((m) => m.toUpperCase());
  if (allow.includes('GET')) allow.push('HEAD');
  for (const [m, hs] of Object.entries(methods) as Array<[Method, RequestHandler[]]>) router[m](path, ...hs);
  router.all(path, (_req, res) => {
    res.setHeader('Allow', allow.join(', '));
    sendProblem(res, 'method_not_allowed');
  });
}

export const iso = (ms: number): string => new Date(ms).toISOString();

export function userJson(u: PublicUser) {
  return { id: u.id, email: u.email, created_at: iso(u.createdAt), email_verified: u.emailVerified };
}

export function sessionJson(s: SessionRecord) {
  return {
    id: s.id,
    mode: s.mode,
    created_at: iso(s.createdAt),
    expires_at: iso(s.expiresAt),
    idle_expires_at: iso(Math.min(s.idleExpiresAt, s.expiresAt)),
  };
}
