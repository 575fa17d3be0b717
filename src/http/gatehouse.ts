/**
 * Framework-neutral assembly shared by every adapter: config, stores, core, the authenticator and
 * the two node:http handlers (auth routes under `basePath`, well-known routes at the root).
 */
import { resolveConfig, type GatehouseConfig, type GatehouseConfigInput } from '../config.js';
import { Account } from '../core/account.js';
import { AuthCore, type CoreLogger } from '../core/auth.js';
import { systemClock, systemRandom } from '../core/crypto.js';
import type { ClaimsHook } from '../core/tokens.js';
import type { Clock, Random, Stores } from '../ports.js';
import { openStores } from '../stores/open.js';
import { createHandler, type HandlerOptions, type NodeHandler } from './handler.js';
import { compileTrust, type TrustFn } from './meta.js';
import { Authenticator } from './middleware.js';
import { accountRoutes } from './routes/account.js';
import { authRoutes } from './routes/auth.js';
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
  /** Request hooks run before every auth route (CSRF, rate limits); one that answered returns true. */
  before?: HandlerOptions['before'];
}

export interface GatehouseCoreHandle {
  core: AuthCore;
  account: Account;
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
  close(): Promise<void>;
}

export async function createGatehouseCore(options: GatehouseOptions = {}): Promise<GatehouseCoreHandle> {
  const config = resolveConfig(options.config ?? {});
  const basePath = (options.basePath ?? '/auth').replace(/\/+$/, '');
  if (!/^(\/[A-Za-z0-9._~-]+)+$/.test(basePath)) throw new TypeError(`basePath "${basePath}" must be a plain absolute path such as /auth`);
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
  try {
    await core.start();
  } catch (e) {
    if (ownStores) await stores.close();
    throw e;
  }
  const account = new Account(core);
  const trust = compileTrust(config.trustProxy);
  const authenticator = new Authenticator(core, config.session.dataMaxBytes);

  const ctx: RouteContext = { core, account, basePath, trust };
  const routes = new Router();
  authRoutes(routes, ctx);
  accountRoutes(routes, ctx);
  const common = { router: routes, authenticator, ...(options.logger ? { logger: options.logger } : {}), ...(options.before ? { before: options.before } : {}) };
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
    async close() {
      await core.stop();
      if (ownStores) await stores.close();
    },
  };
}
