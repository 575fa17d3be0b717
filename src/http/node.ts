/**
 * The plain node:http adapter: no framework, the fastest path.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { createGatehouseNode } from 'gatehouse/node';
 *
 * const gh = await createGatehouseNode();
 * createServer(async (req, res) => {
 *   if (gh.handle(req, res)) return;                  // /auth/* and /.well-known/*
 *   const auth = await gh.authenticate(req);          // your own routes
 *   if (!auth) return gh.reject(req, res);
 *   res.end(JSON.stringify({ hello: auth.user.email }));
 * }).listen(3000);
 * ```
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createGatehouseCore, type GatehouseCoreHandle, type GatehouseOptions } from './gatehouse.js';
import { compileRequirement, type AuthGuardOptions, type RequestAuth, type RequireAuthOptions } from './middleware.js';
import { sendProblem } from './problem.js';

export interface GatehouseNode extends GatehouseCoreHandle {
  /** Serves Gatehouse's own routes; returns false (without answering) for any other path. */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
  /**
   * Authenticates a request to one of your routes; resolves its auth or undefined. Pass `res` so a
   * migrated old session can set its cookie. A cookie POST/PUT/PATCH/DELETE from another site (the
   * CSRF rule) resolves undefined, and `reject` answers it 403 `csrf_rejected`; `{ csrf: false }`
   * turns the check off for the route.
   */
  authenticate(req: IncomingMessage, res?: ServerResponse, options?: AuthGuardOptions): Promise<RequestAuth | undefined>;
  /** Answers 401 in the form that fits the credential presented (403 `csrf_rejected` for a cross-site cookie request). */
  reject(req: IncomingMessage, res: ServerResponse): void;
  /**
   * Authenticates and checks a requirement in one call: resolves the auth, or undefined after answering
   * (401, or 403 `reauth_required` naming the level when the authentication is too weak or too old).
   *
   * @example
   *   const auth = await gh.requireAuth(req, res, { acr: 'aal2', maxAge: '10m' });
   *   if (!auth) return;
   */
  requireAuth(req: IncomingMessage, res: ServerResponse, options?: RequireAuthOptions): Promise<RequestAuth | undefined>;
}

export async function createGatehouseNode(options: GatehouseOptions = {}): Promise<GatehouseNode> {
  const gh = await createGatehouseCore(options);
  const base = gh.basePath;
  return {
    ...gh,
    handle(req, res) {
      const url = req.url ?? '/';
      if (url === base || url.startsWith(base + '/') || url.startsWith(base + '?')) {
        gh.prefixedAuthHandler(req, res, () => sendProblem(res, 'not_found'));
        return true;
      }
      if (url.startsWith('/.well-known/')) {
        gh.wellKnownHandler(req, res, () => sendProblem(res, 'not_found'));
        return true;
      }
      return false;
    },
    async authenticate(req, res, options) {
      await gh.authenticator.authenticate(req, res, options);
      return req.auth;
    },
    reject(req, res) {
      gh.authenticator.reject(req, res);
    },
    async requireAuth(req, res, opts) {
      const check = compileRequirement(opts);
      await gh.authenticator.authenticate(req, res, opts);
      return gh.authenticator.decide(req, res, check) ? req.auth : undefined;
    },
  };
}
export type { AuthGuardOptions, AuthRequirement, RequireAuthOptions } from './middleware.js';
