/**
 * Redis stores for hot, expiring state: sessions (and their data), refresh tokens, proof marks and
 * the change feed. Works on a single Redis and on Redis Cluster: every key of one user shares the `{userId}`
 * hash tag, and every multi-key change is one Lua script on that slot. Requires Redis 7.0+.
 *
 * @example
 * const hot = await openRedisStores({ url: 'redis://127.0.0.1:6379', prefix: 'gh:' });
 */
import type { Cluster, Redis } from 'ioredis';
import type { ChangeFeed, ProofMarkStore, RefreshTokenStore, SessionStore } from '../../ports.js';
import { connect, guard } from './client.js';
import { defineScripts } from './commands.js';
import { keys } from './keys.js';
import { createRedisSessionStore } from './sessions.js';
import { createRedisRefreshStore } from './refresh.js';
import { createRedisProofStore } from './proofs.js';
import { createRedisFeed } from './feed.js';

export interface RedisStoreOptions {
  /** `redis://host:port[/db]`, or `redis+cluster://host:port,host:port` for a cluster. */
  url: string;
  /** Prepended to every key and channel. Default `gh:`. */
  prefix?: string;
  /** Treat `url` as a cluster seed list (also implied by `redis+cluster://`). */
  cluster?: boolean;
  /** Beyond this a command fails with StoreUnavailableError. Default 2000. */
  commandTimeoutMs?: number;
  /** Change-feed retention (minimum 2 h). */
  feedRetentionMs?: number;
}

export interface RedisStores {
  sessions: SessionStore;
  refreshTokens: RefreshTokenStore;
  proofs: ProofMarkStore;
  feed: ChangeFeed;
  redis: Redis | Cluster;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export async function openRedisStores(opts: RedisStoreOptions): Promise<RedisStores> {
  const prefix = opts.prefix ?? 'gh:';
  if (/[{}]/.test(prefix)) throw new TypeError('the Redis key prefix must not contain { or }');
  const redis = connect({ url: opts.url, cluster: opts.cluster, commandTimeoutMs: opts.commandTimeoutMs });
  const k = keys(prefix);
  const scripts = defineScripts(redis);
  try {
    await guard(redis.ping());
  } catch (e) {
    redis.disconnect();
    throw e;
  }
  const feed = await createRedisFeed(redis, k, { retentionMs: opts.feedRetentionMs });
  return {
    sessions: createRedisSessionStore(redis, k, scripts),
    refreshTokens: createRedisRefreshStore(redis, k, scripts),
    proofs: createRedisProofStore(redis, k),
    feed,
    redis,
    async ping() {
      await guard(redis.ping());
    },
    async close() {
      await feed.close();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
