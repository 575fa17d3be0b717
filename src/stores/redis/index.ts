/**
 * Redis stores for hot, expiring state: sessions (and their data), refresh tokens, proof marks and
 * the change feed. Works on a single Redis and on Redis Cluster: every key of one user shares the `{userId}`
 * hash tag, and every multi-key change is one Lua script on that slot. Requires Redis 7.0+.
 *
 * @example
 * const hot = await openRedisStores({ url: 'redis://127.0.0.1:6379', prefix: 'gh:' });
 */
import { CONFIG_DEFAULTS } from '../../config.js';
import type { Cluster, Redis } from 'ioredis';
import type { ChangeFeed, ProofMarkStore, RefreshTokenStore, SessionStore } from '../../ports.js';
import type { ConnectionOptions } from 'node:tls';
import { connect, guard, targetOf, whenReady } from './client.js';
import { countReplicas, ReplicaAcks } from './acks.js';
import { barrierKeys, ConfirmedRevocations, confirmedFeed, confirmedSessions } from './durable.js';
import { defineDurableScripts } from './durable-scripts.js';
import { defineScripts } from './commands.js';
import { keys } from './keys.js';
import { createRedisSessionStore } from './sessions.js';
import { createRedisRefreshStore } from './refresh.js';
import { createRedisProofStore } from './proofs.js';
import { createRedisFeed } from './feed.js';

export interface RedisStoreOptions {
  /**
   * `redis[s]://[user:pass@]host:port[/db]`, `redis[s]+cluster://[user:pass@]host:port,host:port`
   * for a Cluster, or `redis[s]+sentinel://[user:pass@]host:26379,host:26380/mymaster` for a master
   * found through Sentinel (see url.ts).
   */
  url: string;
  /** Prepended to every key and channel. Default `gh:`. */
  prefix?: string;
  /** Treat `url` as a cluster seed list (also implied by `redis+cluster://`). */
  cluster?: boolean;
  /** Beyond this a command fails with StoreUnavailableError. Default 2000. */
  commandTimeoutMs?: number;
  /** Change-feed retention (minimum 2 h). */
  feedRetentionMs?: number;
  /**
   * Replicas that must acknowledge a revocation before it is answered (acks.ts, durable.ts).
   * `'auto'` (default): 1 when the deployment has replicas — always behind Sentinel; on a Cluster or
   * one server when a replica is connected at open — else 0. 0 turns the wait off.
   */
  replicaAcks?: number | 'auto';
  /** How long a revocation waits for them (default 250 ms); keep it below `commandTimeoutMs`. */
  replicaAckTimeoutMs?: number;
  /** Extra TLS settings (a private CA, a client certificate) for `rediss` URLs. */
  tls?: ConnectionOptions;
}

export interface RedisStores {
  sessions: SessionStore;
  refreshTokens: RefreshTokenStore;
  proofs: ProofMarkStore;
  feed: ChangeFeed;
  redis: Redis | Cluster;
  /** Replicas each revocation waits for (0: none); `replicaAcks` resolved. */
  replicaAcks: number;
  /** Session ids and feed events of revocations answered 503 that this process is still re-applying (durable.ts). */
  pendingRepairs(): number;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export async function openRedisStores(opts: RedisStoreOptions): Promise<RedisStores> {
  const prefix = opts.prefix ?? CONFIG_DEFAULTS.redisPrefix;
  if (/[{}]/.test(prefix)) throw new TypeError('the Redis key prefix must not contain { or }');
  const commandTimeoutMs = opts.commandTimeoutMs ?? CONFIG_DEFAULTS.storeTimeout;
  let ackTimeoutMs = opts.replicaAckTimeoutMs ?? 250;
  if (opts.replicaAcks !== undefined && opts.replicaAcks !== 'auto' && !(Number.isInteger(opts.replicaAcks) && opts.replicaAcks >= 0)) {
    throw new TypeError('replicaAcks must be a non-negative integer or "auto"');
  }
  const target = targetOf(opts.url, opts.cluster);
  const conn = { url: opts.url, cluster: opts.cluster, commandTimeoutMs, ...(opts.tls ? { tls: opts.tls } : {}) };
  const redis = connect(conn);
  const k = keys(prefix);
  const scripts = defineScripts(redis);
  const openTimeoutMs = Math.max(3 * commandTimeoutMs, 5000);
  let replicas: number;
  try {
    await whenReady(redis, openTimeoutMs);
    await guard(redis.ping());
    replicas = opts.replicaAcks === undefined || opts.replicaAcks === 'auto'
      ? (target.kind === 'sentinel' ? 1 : Math.min(1, await guard(countReplicas(redis))))
      : opts.replicaAcks;
    if (replicas > 0 && ackTimeoutMs >= commandTimeoutMs) {
      // WAIT is one command: past the command timeout the client gives up on it first.
      if (typeof opts.replicaAcks === 'number') throw new TypeError(`the replica wait (${ackTimeoutMs} ms) must be shorter than the command timeout (${commandTimeoutMs} ms)`);
      ackTimeoutMs = Math.max(1, Math.floor(commandTimeoutMs / 2));
    }
  } catch (e) {
    redis.disconnect();
    throw e;
  }
  const feed = await createRedisFeed(redis, k, { retentionMs: opts.feedRetentionMs });
  let sessions = createRedisSessionStore(redis, k, scripts);
  let publishing: ChangeFeed = feed;
  let acks: ReplicaAcks | null = null;
  let confirmed: ConfirmedRevocations | null = null;
  if (replicas > 0) {
    // A connection of its own: WAIT blocks the connection it runs on.
    const ackConn = connect(conn);
    try {
      await whenReady(ackConn, openTimeoutMs);
    } catch (e) {
      ackConn.disconnect();
      await feed.close();
      redis.disconnect();
      throw e;
    }
    // The revocation writes run in the barrier's pipeline, on this connection (acks.ts, durable.ts).
    defineScripts(ackConn);
    defineDurableScripts(ackConn);
    acks = new ReplicaAcks(ackConn, { replicas, timeoutMs: ackTimeoutMs });
    confirmed = new ConfirmedRevocations(redis, acks, k, barrierKeys(prefix, k.feedLog, target.kind !== 'cluster'), feed.retentionMs, prefix);
    sessions = confirmedSessions(sessions, confirmed);
    publishing = confirmedFeed(feed, confirmed);
  }
  return {
    sessions,
    refreshTokens: createRedisRefreshStore(redis, k, scripts),
    proofs: createRedisProofStore(redis, k),
    feed: publishing,
    redis,
    replicaAcks: replicas,
    async ping() {
      await guard(redis.ping());
    },
    pendingRepairs: () => confirmed?.pending ?? 0,
    async close() {
      confirmed?.close();
      await feed.close();
      acks?.close();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
