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
 * app.get('/api/profile', gh.authenticate, gh.requireAuth(), (req, res) => res.json({ id: req.auth!.user.id }));
 * ```
 */
import express, { type ErrorRequestHandler, type RequestHandler, type Router } from 'express';
import { resolveConfig, type GatehouseConfig, type GatehouseConfigInput } from '../config.js';
import { Account } from '../core/account.js';
import { AuthCore, type CoreLogger } from '../core/auth.js';
import { systemClock, systemRandom } from '../core/crypto.js';
import type { ClaimsHook } from '../core/tokens.js';
import { GatehouseError, isGatehouseError } from '../errors.js';
import type { Clock, Random, Stores } from '../ports.js';
import { openStores } from '../stores/open.js';
import { makeAuthenticate, makeRequireAuth } from './middleware.js';
import { sendError, sendProblem } from './problem.js';
import { accountRoutes } from './routes/account.js';
import { authRoutes } from './routes/auth.js';
import type { RouteContext } from './routes/kit.js';
import { wellKnownRoutes } from './routes/well-known.js';

export interface GatehouseOptions {
  /** Configuration (validated; see README for every setting). */
  config?: GatehouseConfigInput;
  /** Stores to use; by default opened from `config.databaseUrl` / `config.redisUrl`. */
  stores?: Stores;
  /** Adds application claims to access tokens. Reserved claims cannot be set. */
  claims?: ClaimsHook;
  /** Where the router will be mounted (scopes the refresh cookie). Default `/auth`. */
  basePath?: string;
  clock?: Clock;
  random?: Random;
  logger?: CoreLogger;
}

export interface Gatehouse {
  /** Mount at `basePath` (default `/auth`). */
  router: Router;
  /** Mount at the root: `/.well-known/jwks.json` and `/.well-known/openid-configuration`. */
  wellKnown: Router;
  /** Sets `req.auth` from a bearer token or the session cookie; leaves it undefined otherwise. */
  authenticate: RequestHandler;
  /** 401 problem unless `authenticate` accepted a credential. */
  requireAuth: () => RequestHandler;
  /** Maps errors from Gatehouse (and anything else) to RFC 9457 problems; mount last. */
  errorHandler: ErrorRequestHandler;
  core: AuthCore;
  account: Account;
  config: GatehouseConfig;
  close(): Promise<void>;
}

/** Express's own errors (body-parser style) carry a status; map the client-side ones. */
function statusOf(err: unknown): number | undefined {
  const s = (err as { status?: unknown; statusCode?: unknown })?.status ?? (err as { statusCode?: unknown })?.statusCode;
  return typeof s === 'number' ? s : undefined;
}

export function makeErrorHandler(logger?: CoreLogger): ErrorRequestHandler {
  return (err, _req, res, next) => {
    if (res.headersSent) return next(err);
    if (isGatehouseError(err)) {
      if (err.code === 'store_unavailable') logger?.warn({ err: { message: err.message, cause: String((err as Error).cause ?? '') } }, 'store unavailable');
      return sendError(res, err);
    }
    const status = statusOf(err);
    if (status === 413) return sendProblem(res, 'payload_too_large');
    if (status === 415) return sendProblem(res, 'unsupported_media_type');
    if (status !== undefined && status >= 400 && status < 500) return sendProblem(res, 'invalid_request');
    logger?.error({ err }, 'unhandled error');
    sendProblem(res, 'internal');
  };
}

export async function createGatehouse(options: GatehouseOptions = {}): Promise<Gatehouse> {
  const config = resolveConfig(options.config ?? {});
  const basePath = (options.basePath ?? '/auth').replace(/\/+$/, '');
  if (!/^(\/[A-Za-z0-9._~-]+)*$/.test(basePath)) throw new TypeError(`basePath "${basePath}" is not a plain path`);
  const ownStores = !options.stores;
  const stores = options.stores ?? (await openStores({ databaseUrl: config.databaseUrl, redisUrl: config.redisUrl, timeoutMs: config.storeTimeout }));
  const core = new AuthCore({
    config,
    stores,
    clock: options.clock ?? systemClock,
    random: options.random ?? systemRandom,
    ...(options.claims ? { claims: options.claims } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  });
  await core.start();
  const account = new Account(core);
  const authenticate = makeAuthenticate(core, config.session.dataMaxBytes);
  const requireAuth = makeRequireAuth(core);
  const errorHandler = makeErrorHandler(options.logger);

  const ctx: RouteContext = { core, account, basePath, requireAuth };
  const router = express.Router();
  router.use((_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  });
  router.use(authenticate);
  authRoutes(router, ctx);
  accountRoutes(router, ctx);
  router.use((_req, res) => sendProblem(res, 'not_found'));
  router.use(errorHandler);

  const wellKnown = express.Router();
  wellKnownRoutes(wellKnown, core, basePath);
  wellKnown.use(errorHandler);

  return {
    router,
    wellKnown,
    authenticate,
    requireAuth,
    errorHandler,
    core,
    account,
    config,
    async close() {
      await core.stop();
      if (ownStores) await stores.close();
    },
  };
}

export { GatehouseError };
export type { RequestAuth, GatehouseSessionData } from './middleware.js';
