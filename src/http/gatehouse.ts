/**
 * Framework-neutral assembly shared by every adapter: config, stores, core, the authenticator and
 * the two node:http handlers (auth routes under `basePath`, well-known routes at the root).
 */
import { resolveConfig, type GatehouseConfig, type GatehouseConfigInput } from '../config.js';
import { Account } from '../core/account.js';
import { AuthCore, type CoreLogger } from '../core/auth.js';
import { systemClock, systemRandom } from '../core/crypto.js';
import type { Lifecycle } from '../core/lifecycle.js';
import type { ClaimsHook } from '../core/tokens.js';
import { createLifecycle, type Outbox } from '../mail/index.js';
import type { Clock, Mailer, Random, Stores } from '../ports.js';
import { openStores } from '../stores/open.js';
import { corsPolicy } from './cors.js';
import { csrfGuard } from './csrf.js';
import { createHandler, type HandlerOptions, type NodeHandler } from './handler.js';
import { legacyFromConfig, LegacyMigration, type LegacyOptions } from './legacy.js';
import { compileTrust, type TrustFn } from './meta.js';
import { Authenticator } from './middleware.js';
import { createRateLimits, type RateLimits } from './rate-limit.js';
import { accountRoutes } from './routes/account.js';
import { authRoutes } from './routes/auth.js';
import { lifecycleRoutes } from './routes/lifecycle.js';
import type { RouteContext } from './routes/kit.js';
import { wellKnownRoutes } from './routes/well-known.js';
import { Router } from './router.js';

export interface GatehouseOptions {
  /** Configuration (validated; see docs/config.md for every setting). */
  config?: GatehouseConfigInput;
  /** Stores to use; by default opened from `config.databaseUrl` / `config.redisUrl`. */
  stores?: Stores;
  /** Adds application claims to access tokens. Reserved claims cannot be set. */
  claims?: ClaimsHook;
  /** Where the auth routes are mounted (scopes the refresh cookie). Default `/auth`. */
  basePath?: string;
  clock?: Clock;
  random?: Random;
  logger?: CoreLogger;
  /** Delivers verification, password-reset and email-change mail (default: SMTP from `mail.smtpUrl`, else none). */
  mailer?: Mailer;
  /** Request hooks run after Gatehouse's own CSRF check, before every auth route; one that answered returns true. */
  before?: HandlerOptions['before'];
  /**
   * Migration from express-session: a request with a valid old signed session cookie (and no Gatehouse
   * credential) gets a Gatehouse session in its place. Overrides `config.legacy`. The source is not
   * closed by `close()`.
   */
  legacy?: LegacyOptions;
}

export interface GatehouseCoreHandle {
  core: AuthCore;
  account: Account;
  /** Email verification, password reset and email change. */
  lifecycle: Lifecycle;
  /** The queue their mail goes through (`idle()` resolves when it is empty). */
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
  /** The brute-force limits the credential routes use (a no-op when `rateLimits.enabled` is false). */
  rateLimits: RateLimits;
  close(): Promise<void>;
}

export async function createGatehouseCore(options: GatehouseOptions = {}): Promise<GatehouseCoreHandle> {
  const config = resolveConfig(options.config ?? {});
  const basePath = (options.basePath ?? '/auth').replace(/\/+$/, '');
  if (!/^(\/[A-Za-z0-9._~-]+)+$/.test(basePath)) throw new TypeError(`basePath "${basePath}" must be a plain absolute path such as /auth`);
  const ownStores = !options.stores;
  const stores = options.stores ?? (await openStores({ databaseUrl: config.databaseUrl, redisUrl: config.redisUrl, timeoutMs: config.storeTimeout, schema: config.databaseSchema, redisPrefix: config.redisPrefix }));
  const core = new AuthCore({
    config,
    stores,
    clock: options.clock ?? systemClock,
    random: options.random ?? systemRandom,
    ...(options.claims ? { claims: options.claims } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  });
  try {
    await core.start();
  } catch (e) {
    if (ownStores) await stores.close();
    throw e;
  }
  const account = new Account(core);
  const trust = compileTrust(config.trustProxy);
  let legacy: Awaited<ReturnType<typeof legacyFromConfig>> = null;
  try {
    legacy = options.legacy ? { migration: new LegacyMigration(core, trust, options.legacy), close: async () => {} } : await legacyFromConfig(core, trust, config);
  } catch (e) {
    await core.stop();
    if (ownStores) await stores.close();
    throw e;
  }
  const authenticator = new Authenticator(core, config.session.dataMaxBytes, legacy?.migration ?? null);

  let rateLimits: RateLimits;
  let rateLimitRedis: { quit(): Promise<unknown>; disconnect(): void } | null = null;
  try {
    if (config.rateLimits.enabled && config.redisUrl) {
      // Its own connection: the limits work the same whether the stores were opened here or injected.
      const { connect } = await import('../stores/redis/client.js');
      rateLimitRedis = connect({ url: config.redisUrl, commandTimeoutMs: config.storeTimeout });
    }
    rateLimits = createRateLimits(config.rateLimits, rateLimitRedis ? { redis: rateLimitRedis } : {});
  } catch (e) {
    if (legacy) await legacy.close();
    await core.stop();
    if (ownStores) await stores.close();
    throw e;
  }

  const ctx: RouteContext = { core, account, basePath, trust, rateLimits };
  const routes = new Router();
  authRoutes(routes, ctx);
  accountRoutes(routes, ctx);
  const mail = createLifecycle(core, account, options.mailer, options.logger);
  lifecycleRoutes(routes, ctx, mail.lifecycle);
  const csrf = csrfGuard({ publicUrl: config.publicUrl, allowedOrigins: [...config.csrf.allowedOrigins, ...config.cors.origins] });
  const common = {
    router: routes,
    authenticator,
    cors: corsPolicy(config.cors.origins),
    before: [csrf, ...(options.before ?? [])],
    ...(options.logger ? { logger: options.logger } : {}),
  };
  const authHandler = createHandler(common);
  const prefixedAuthHandler = createHandler({ ...common, prefix: basePath, fallthrough: true });

  const wk = new Router();
  wellKnownRoutes(wk, core, basePath);
  const wellKnownHandler = createHandler({ router: wk, authenticator, fallthrough: true, ...(options.logger ? { logger: options.logger } : {}) });

  return {
    core,
    account,
    config,
    basePath,
    trust,
    authenticator,
    authHandler,
    prefixedAuthHandler,
    wellKnownHandler,
    routes,
    rateLimits,
    lifecycle: mail.lifecycle,
    outbox: mail.outbox,
    async close() {
      await mail.close();
      await rateLimits.close();
      if (legacy) await legacy.close();
      if (rateLimitRedis) await rateLimitRedis.quit().catch(() => rateLimitRedis!.disconnect());
      await core.stop();
      if (ownStores) await stores.close();
    },
  };
}
