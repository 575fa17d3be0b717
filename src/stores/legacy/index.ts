/**
 * Old session stores that Gatehouse migrates users from (see docs/migrating-from-express-session.md).
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { createGatehouse } from 'gatehouse/express';
 * import { ConnectRedisSource } from 'gatehouse/stores/legacy';
 *
 * const gh = await createGatehouse({
 *   legacy: {
 *     source: new ConnectRedisSource(new Redis(process.env.REDIS_URL!), { prefix: 'sess:' }),
 *     secrets: [process.env.SESSION_SECRET!],
 *     mapUser: async (old) => (typeof old.userId === 'string' ? old.userId : null),
 *   },
 * });
 * ```
 */
export { ConnectRedisSource, type ConnectRedisSourceOptions } from './connect-redis.js';
export type { LegacyEntry, LegacySessionSource } from '../../ports.js';
