/**
 * Gatehouse: server-side sessions and JWTs side by side, on one user and session model.
 *
 * @example
 * ```ts
 * import { createGatehouse } from 'gatehouse';
 * const gh = await createGatehouse({ config: { publicUrl: 'https://auth.example.com' } });
 * app.use(gh.wellKnown);
 * app.use('/auth', gh.router);
 * app.get('/api/me', gh.authenticate, gh.requireAuth(), (req, res) => res.json(req.auth!.user));
 * ```
 */
export { createGatehouse, makeErrorHandler, type Gatehouse, type GatehouseOptions, type RequestAuth, type GatehouseSessionData, type AuthGuardOptions } from './http/express.js';
export { resolveConfig, loadConfigFromEnv, parseDuration, ConfigError, ENV, type GatehouseConfig, type GatehouseConfigInput } from './config.js';
export { GatehouseError, StoreUnavailableError, ERROR_CODES, type ErrorCode } from './errors.js';
export { AuthCore, type AuthContext, type LoginResult, type TokenGrant } from './core/auth.js';
export { Account, type DeviceSession } from './core/account.js';
export { SessionDataHandle } from './core/session-data.js';
export type { ClaimsHook, AccessClaims } from './core/tokens.js';
export type { PublicUser } from './core/users.js';
export { openStores, type OpenStoresOptions } from './stores/open.js';
export type * from './ports.js';
// Types only: prom-client is loaded when metrics are asked for, never by importing Gatehouse.
export type { GatehouseMetrics, MetricsOptions } from './observability/metrics.js';
export type { GatehouseMetricsHandle } from './http/gatehouse.js';
export type { Readiness, ReadinessCheck } from './observability/readiness.js';
export type { Telemetry, RefreshOutcome } from './core/telemetry.js';
