/**
 * The Express adapter: `createGatehouse(options)` gives an application the `/auth` router, the
 * `authenticate` middleware, `requireAuth()` and `close()`.
 *
 * @example
 * ```ts
 * import express from 'express';
 * import { createGatehouse } from 'gatehouse/express';
 *
 * const gh = await createGatehouse({ config: { databaseUrl: 'sqlite:./data/app.db' } });
 * const app = express();
 * app.use(gh.wellKnown);
 * app.use('/auth', gh.router);
 * app.get('/api/profile', gh.requireAuth(), (req, res) => res.json({ id: req.auth!.user.id }));
 * app.get('/', gh.authenticate, (req, res) => res.send(req.auth ? 'hello again' : 'hello')); // optional sign-in
 * ```
 */
import express, { type ErrorRequestHandler, type RequestHandler, type Router as ExpressRouter } from 'express';
import { createGatehouseCore, type GatehouseCoreHandle, type GatehouseOptions } from './gatehouse.js';
import { respondError } from './handler.js';
import { compileRequirement, type AuthGuardOptions, type RequireAuthOptions } from './middleware.js';
import { sendProblem } from './problem.js';

export interface Gatehouse extends GatehouseCoreHandle {
  /** Mount at `basePath` (default `/auth`). */
  router: ExpressRouter;
  /** The admin API (docs/admin.md); `gatehouse serve` mounts it at `/admin/api`. Not mounted unless you do. */
  admin: ExpressRouter;
  /** Mount at the root: `/.well-known/jwks.json`, `/.well-known/openid-configuration` and `/.well-known/gatehouse-revocations`. */
  wellKnown: ExpressRouter;
  /**
   * Sets `req.auth` from a bearer token or the session cookie; leaves it undefined otherwise. A
   * cookie POST/PUT/PATCH/DELETE from another site (the CSRF rule) is left signed out.
   */
  authenticate: RequestHandler;
  /** `authenticate` with per-route options, e.g. `gh.authenticateWith({ csrf: false })`. */
  authenticateWith: (options: AuthGuardOptions) => RequestHandler;
  /**
   * 401 problem unless the request carries a valid credential; 403 `csrf_rejected` for a cookie
   * POST/PUT/PATCH/DELETE from another site (`{ csrf: false }` turns that check off for the route).
   * Authenticates by itself, so `app.get('/x', gh.requireAuth(), handler)` is enough.
   * `requireAuth({ acr: 'aal2', maxAge: '10m' })` also asks for two factors (or a passkey) proven in the
   * last ten minutes, else 403 `reauth_required` naming the level.
   */
  requireAuth: (options?: RequireAuthOptions) => RequestHandler;
  /** Maps errors (Gatehouse's and any other) to RFC 9457 problems; mount last. */
  errorHandler: ErrorRequestHandler;
}

/** Errors from Express itself carry a status; client-side ones become 4xx problems, never a 500. */
export function makeErrorHandler(logger?: GatehouseOptions['logger']): ErrorRequestHandler {
  return (err, _req, res, next) => {
    if (res.headersSent) return next(err);
    const status = (err as { status?: unknown })?.status ?? (err as { statusCode?: unknown })?.statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      return sendProblem(res, status === 413 ? 'payload_too_large' : status === 415 ? 'unsupported_media_type' : 'invalid_request');
    }
    respondError(res, err, logger);
  };
}

export async function createGatehouse(options: GatehouseOptions = {}): Promise<Gatehouse> {
  const gh = await createGatehouseCore(options);
  const errorHandler = makeErrorHandler(options.logger);

  const router = express.Router();
  router.use((req, res, next) => gh.authHandler(req, res, next));
  router.use(errorHandler);

  const admin = express.Router();
  admin.use((req, res, next) => gh.adminHandler(req, res, next));
  admin.use(errorHandler);

  const wellKnown = express.Router();
  wellKnown.use((req, res, next) => gh.wellKnownHandler(req, res, next));

  const authenticateWith = (options?: AuthGuardOptions): RequestHandler => (req, res, next) => {
    // The steady state is decided from the caches synchronously: no promise, no extra tick.
    if (gh.authenticator.authenticateCached(req, options)) return next();
    gh.authenticator.authenticate(req, res, options).then(() => next(), next);
  };
  const authenticate = authenticateWith();
  // Authenticates by itself when `authenticate` has not run, so one middleware protects a route
  // (one Express layer fewer per request); after `authenticate` it only decides (and applies its
  // own CSRF option).
  const requireAuth = (options?: RequireAuthOptions): RequestHandler => {
    const check = compileRequirement(options);
    return (req, res, next) => {
      const decide = () => {
        if (gh.authenticator.decide(req, res, check)) next();
      };
      if (gh.authenticator.authenticateCached(req, options)) return decide();
      gh.authenticator.authenticate(req, res, options).then(decide, next);
    };
  };

  return { ...gh, router, admin, wellKnown, authenticate, authenticateWith, requireAuth, errorHandler };
}

export type { GatehouseOptions } from './gatehouse.js';
export type { RequestAuth, GatehouseSessionData, AuthGuardOptions, AuthRequirement, RequireAuthOptions } from './middleware.js';
export type { LegacyOptions } from './legacy.js';
