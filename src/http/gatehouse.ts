/**
 * Framework-neutral assembly shared by every adapter: the composed runtime (config, stores, core,
 * limits, mail, migration — see src/compose.ts), the authenticator and the two node:http handlers
 * (auth routes under `basePath`, well-known routes at the root).
 */
import { compose, type ComposeOptions, type Runtime } from '../compose.js';
import type { GatehouseConfig } from '../config.js';
import type { AuthCore } from '../core/auth.js';
import type { Outbox } from '../mail/index.js';
import { corsPolicy } from './cors.js';
import { csrfGuard, csrfOptions } from './csrf.js';
import { createHandler, type HandlerOptions, type NodeHandler } from './handler.js';
import { LegacyCookies } from './legacy.js';
import { compileTrust, type TrustFn } from './meta.js';
import { Authenticator } from './middleware.js';
import type { RateLimits } from './rate-limit.js';
import { adminAllowList } from './admin-gate.js';
import { accountRoutes } from './routes/account.js';
import { adminRoutes } from './routes/admin.js';
import { authRoutes } from './routes/auth.js';
import { dbscRoutes } from './routes/dbsc.js';
import { lifecycleRoutes } from './routes/lifecycle.js';
import { sessionCheckRoutes } from './routes/session-check.js';
import { passkeyRoutes } from './routes/passkeys.js';
import { oidcRoutes } from './routes/oidc.js';
import { secondFactorRoutes } from './routes/second-factor.js';
import type { RouteContext } from './routes/kit.js';
import { wellKnownRoutes } from './routes/well-known.js';
import { Router } from './router.js';
import type { GatehouseMetrics } from '../observability/metrics.js';
import { authObserver, metricsHandler, requestObserver, RequestTimer } from '../observability/http.js';

export interface GatehouseOptions extends ComposeOptions {
  /** Where the auth routes are mounted (scopes the refresh cookie). Default `/auth`. */
  basePath?: string;
  /** Request hooks run after Gatehouse's own CSRF check, before every auth route; one that answered returns true. */
  before?: HandlerOptions['before'];
}

export interface GatehouseCoreHandle {
  /** The core's use cases (sign-in, sessions, account, lifecycle, admin, published). */
  core: AuthCore;
  /** The queue lifecycle mail goes through (`idle()` resolves when it is empty). */
  outbox: Outbox;
  config: GatehouseConfig;
  basePath: string;
  trust: TrustFn;
  authenticator: Authenticator;
  /** The auth routes, relative to where the framework mounted them (Express strips the mount path). */
  authHandler: NodeHandler;
  /** The auth routes for a server that does not strip the mount path: matches `basePath` itself. */
  prefixedAuthHandler: NodeHandler;
  /** `/.well-known/*`; unknown paths fall through. */
  wellKnownHandler: NodeHandler;
  /** Every route, for documentation and adapters. */
  routes: Router;
  /**
   * The admin API (see docs/admin.md), relative to where it is mounted: `gatehouse serve` mounts it at
   * `/admin/api`; an application mounts it only if it wants it. Requests from outside
   * `admin.allowIps` are refused before anything else.
   */
  adminHandler: NodeHandler;
  /** The admin API's routes, relative to its mount path. */
  adminRoutes: Router;
  /** The brute-force limits the credential routes use (a no-op when `rateLimits.enabled` is false). */
  rateLimits: RateLimits;
  /**
   * Prometheus metrics when `metrics` was given (else null): the `registry`, `handler` answering
   * `GET /metrics` (mount it where only your scraper reaches it, or pass `{ token }` to `metricsHandler`),
   * and `requestTimer`, a middleware timing every request of your application by route template.
   */
  metrics: GatehouseMetricsHandle | null;
  /** Each dependency's state (database, Redis, revocation feed, signing key): what `/readyz` answers. */
  readiness: Runtime['readiness'];
  close(): Promise<void>;
}

export interface GatehouseMetricsHandle {
  metrics: GatehouseMetrics;
  registry: GatehouseMetrics['registry'];
  /** Serves the text exposition (`GET`/`HEAD`); no authentication of its own. */
  handler: NodeHandler;
  /** Times each request of the application it is mounted on (`app.use(gh.metrics.requestTimer)`, first). */
  requestTimer: (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse, next: () => void) => void;
  /** The timer behind `requestTimer` (for servers that start timing elsewhere). */
  timer: RequestTimer;
}

export async function createGatehouseCore(options: GatehouseOptions = {}): Promise<GatehouseCoreHandle> {
  const basePath = (options.basePath ?? '/auth').replace(/\/+$/, '');
  if (!/^(\/[A-Za-z0-9._~-]+)+$/.test(basePath)) throw new TypeError(`basePath "${basePath}" must be a plain absolute path such as /auth`);
  const rt: Runtime = await compose(options);
  const { config, core } = rt;
  const trust = compileTrust(config.trustProxy);
  const legacy = rt.legacy ? new LegacyCookies(rt.legacy, config.session.cookieName, trust, () => core.now()) : null;
  const authenticator = new Authenticator(core, config.session.dataMaxBytes, legacy);
  const timer = rt.metrics ? new RequestTimer(rt.metrics) : null;
  if (rt.metrics || rt.tracer) authenticator.observer = authObserver(rt.metrics, rt.tracer);
  const observing = timer !== null || rt.tracer !== null;

  const ctx: RouteContext = { core, basePath, trust, rateLimits: rt.rateLimits };
  const routes = new Router();
  authRoutes(routes, ctx);
  accountRoutes(routes, ctx);
  lifecycleRoutes(routes, ctx);
  sessionCheckRoutes(routes, ctx);
  secondFactorRoutes(routes, ctx);
  passkeyRoutes(routes, ctx);
  oidcRoutes(routes, ctx);
  dbscRoutes(routes, ctx);
  const csrf = csrfGuard(csrfOptions(config));
  const common = {
    router: routes,
    authenticator,
    cors: corsPolicy(config.cors.origins),
    before: [csrf, ...(options.before ?? [])],
    ...(options.logger ? { logger: options.logger } : {}),
    ...(observing ? { observe: requestObserver(basePath, timer, rt.tracer) } : {}),
  };
  const authHandler = createHandler(common);
  const prefixedAuthHandler = createHandler({ ...common, prefix: basePath, fallthrough: true });

  const adminRouter = new Router();
  adminRoutes(adminRouter, ctx);
  const allowList = adminAllowList(config.admin.allowIps, trust);
  // No CORS: the console is served by the same origin, and nothing else should call this from a browser.
  const adminHandler = createHandler({
    router: adminRouter,
    authenticator,
    before: [...(allowList ? [allowList] : []), csrf],
    ...(options.logger ? { logger: options.logger } : {}),
  });

  const wk = new Router();
  wellKnownRoutes(wk, core, basePath);
  const wellKnownHandler = createHandler({
    router: wk,
    authenticator,
    fallthrough: true,
    ...(options.logger ? { logger: options.logger } : {}),
    ...(observing ? { observe: requestObserver('', timer, rt.tracer) } : {}),
  });

  return {
    core,
    config,
    basePath,
    trust,
    authenticator,
    authHandler,
    prefixedAuthHandler,
    wellKnownHandler,
    routes,
    adminHandler,
    adminRoutes: adminRouter,
    rateLimits: rt.rateLimits,
    outbox: rt.outbox,
    metrics: rt.metrics && timer ? { metrics: rt.metrics, registry: rt.metrics.registry, handler: metricsHandler(rt.metrics), requestTimer: timer.middleware, timer } : null,
    readiness: rt.readiness,
    close: () => rt.close(),
  };
}
