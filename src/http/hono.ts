/**
 * The Hono adapter (Hono on Node through @hono/node-server): Gatehouse's routes served by the same
 * node:http handler as every other adapter, and a middleware that puts `auth` on the context.
 *
 * @example
 * ```ts
 * import { Hono } from 'hono';
 * import { serve } from '@hono/node-server';
 * import { createGatehouseHono } from 'gatehouse/hono';
 *
 * const gh = await createGatehouseHono();
 * const app = new Hono();
 * app.route('/', gh.app);
 * app.get('/api/profile', gh.requireAuth, (c) => c.json({ id: c.get('auth').user.id }));
 * serve({ fetch: app.fetch, port: 3000 });
 * ```
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HttpBindings } from '@hono/node-server';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { Hono, type MiddlewareHandler } from 'hono';
import { createGatehouseCore, type GatehouseCoreHandle, type GatehouseOptions } from './gatehouse.js';
import { compileRequirement, type AuthGuardOptions, type RequestAuth, type RequireAuthOptions } from './middleware.js';
import { sendProblem } from './problem.js';

export type GatehouseHonoEnv = { Bindings: HttpBindings; Variables: { auth: RequestAuth } };

export interface GatehouseHono extends GatehouseCoreHandle {
  /** Mount with `app.route('/', gh.app)`: routes under `basePath` and `/.well-known/`. */
  app: Hono<GatehouseHonoEnv>;
  /** Sets `c.get('auth')` when a valid credential is present (a cross-site cookie POST stays signed out). */
  authenticate: MiddlewareHandler<GatehouseHonoEnv>;
  /** `authenticate` with per-route options, e.g. `gh.authenticateWith({ csrf: false })`. */
  authenticateWith: (options: AuthGuardOptions) => MiddlewareHandler<GatehouseHonoEnv>;
  /**
   * Like `authenticate`, and answers 401 when there is no valid credential, 403 `csrf_rejected` for a
   * cookie POST/PUT/PATCH/DELETE from another site. Called with options — `requireAuth({ acr: 'aal2',
   * maxAge: '10m' })`, `requireAuth({ csrf: false })` — it returns a middleware for them (403
   * `reauth_required` when the authentication is too weak or too old).
   */
  requireAuth: RequireAuth;
  /** The same as `requireAuth(options)`: `app.post('/hook', gh.requireAuthWith({ csrf: false }), …)`. */
  requireAuthWith: (options: RequireAuthOptions) => MiddlewareHandler<GatehouseHonoEnv>;
}

export interface RequireAuth {
  (c: Parameters<MiddlewareHandler<GatehouseHonoEnv>>[0], next: Parameters<MiddlewareHandler<GatehouseHonoEnv>>[1]): ReturnType<MiddlewareHandler<GatehouseHonoEnv>>;
  (options: RequireAuthOptions): MiddlewareHandler<GatehouseHonoEnv>;
}

function raw(c: { env: HttpBindings }): { req: IncomingMessage; res: ServerResponse } {
  if (!c.env?.incoming || !c.env?.outgoing) throw new TypeError('gatehouse/hono needs @hono/node-server (c.env.incoming/outgoing)');
  return { req: c.env.incoming, res: c.env.outgoing };
}

export async function createGatehouseHono(options: GatehouseOptions = {}): Promise<GatehouseHono> {
  const gh = await createGatehouseCore(options);
  const app = new Hono<GatehouseHonoEnv>();
  const serve = (handler: typeof gh.prefixedAuthHandler) => (c: { env: HttpBindings }) => {
    const { req, res } = raw(c);
    handler(req, res, () => sendProblem(res, 'not_found'));
    return RESPONSE_ALREADY_SENT;
  };
  app.all(gh.basePath, serve(gh.prefixedAuthHandler));
  app.all(`${gh.basePath}/*`, serve(gh.prefixedAuthHandler));
  app.all('/.well-known/*', serve(gh.wellKnownHandler));

  const authenticateWith = (options?: AuthGuardOptions): MiddlewareHandler<GatehouseHonoEnv> => async (c, next) => {
    const { req, res } = raw(c);
    await gh.authenticator.authenticate(req, res, options);
    if (req.auth) c.set('auth', req.auth);
    await next();
  };
  const requireAuthWith = (opts?: RequireAuthOptions): MiddlewareHandler<GatehouseHonoEnv> => {
    const check = compileRequirement(opts);
    return async (c, next) => {
      const { req, res } = raw(c);
      await gh.authenticator.authenticate(req, res, opts);
      if (!gh.authenticator.decide(req, res, check)) return RESPONSE_ALREADY_SENT;
      c.set('auth', req.auth!);
      await next();
    };
  };
  const plain = requireAuthWith();
  const requireAuth = ((a: unknown, next?: unknown) =>
    typeof next === 'function' ? plain(a as never, next as never) : requireAuthWith(a as RequireAuthOptions)) as RequireAuth;
  return { ...gh, app, authenticate: authenticateWith(), authenticateWith, requireAuth, requireAuthWith };
}
export type { AuthGuardOptions } from './middleware.js';
