/**
 * Opens the store bundle a database URL (and optional Redis URL) names. Redis holds the hot,
 * expiring state (sessions, refresh tokens, proof marks, the change feed); users, keys, audit and
 * one-time tokens stay in SQL.
 */
import { CONFIG_DEFAULTS } from '../config.js';
import type { Stores } from '../ports.js';

export interface OpenStoresOptions {
  databaseUrl: string;
  redisUrl?: string | null;
  /** Per-operation timeout for network stores. */
  timeoutMs?: number;
  /** PostgreSQL schema (default `gatehouse`). A MySQL URL names its database instead. */
  schema?: string;
  /** Redis key and channel prefix (default `gh:`). */
  redisPrefix?: string;
  /**
   * How long the change feed keeps revocations for replay (ms). Must cover the longest a revocation
   * has to hold (the access-token window): the core refuses to start on a feed that forgets sooner.
   */
  feedRetentionMs?: number;
  /** Replicas a revocation waits for (`auto` by default; see stores/redis/acks.ts). */
  redisWaitReplicas?: number | 'auto';
  redisWaitTimeoutMs?: number;
}

/** The separate liveness checks of a bundle opened here (readiness reports each dependency). */
export interface StoreParts {
  database: () => Promise<void>;
  redis: (() => Promise<void>) | null;
}

const parts = new WeakMap<Stores, StoreParts>();

/** The parts of a bundle `openStores` made; null for stores made elsewhere. */
export function storeParts(stores: Stores): StoreParts | null {
  return parts.get(stores) ?? null;
}

export async function openStores(opts: OpenStoresOptions): Promise<Stores> {
  const sql = await openSql(opts);
  if (!opts.redisUrl) {
    parts.set(sql, { database: () => sql.ping(), redis: null });
    return sql;
  }
  const { openRedisStores } = await import('./redis/index.js');
  const redis = await openRedisStores({
    url: opts.redisUrl,
    commandTimeoutMs: opts.timeoutMs ?? CONFIG_DEFAULTS.storeTimeout,
    ...(opts.redisPrefix ? { prefix: opts.redisPrefix } : {}),
    ...(opts.feedRetentionMs === undefined ? {} : { feedRetentionMs: opts.feedRetentionMs }),
    ...(opts.redisWaitReplicas !== undefined ? { replicaAcks: opts.redisWaitReplicas } : {}),
    ...(opts.redisWaitTimeoutMs !== undefined ? { replicaAckTimeoutMs: opts.redisWaitTimeoutMs } : {}),
  });
  await sql.feed.close();
  const bundle: Stores = {
    ...sql,
    sessions: redis.sessions,
    refreshTokens: redis.refreshTokens,
    // Proof ids, nonces and challenges are shared by every instance through Redis.
    proofs: redis.proofs,
    feed: redis.feed,
    async ping() {
      await sql.ping();
      await redis.ping();
    },
    async close() {
      await redis.close();
      await sql.close();
    },
  };
  parts.set(bundle, { database: () => sql.ping(), redis: () => redis.ping() });
  return bundle;
}

async function openSql(opts: OpenStoresOptions): Promise<Stores> {
  const url = opts.databaseUrl;
  if (url === 'memory:' || url === 'memory://') {
    const { createMemoryStores } = await import('./memory/index.js');
    return createMemoryStores(opts.feedRetentionMs === undefined ? {} : { feedRetentionMs: opts.feedRetentionMs });
  }
  if (url.startsWith('sqlite:')) {
    const { openSqliteStores } = await import('./sqlite/index.js');
    const path = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    return openSqliteStores({ path: path || './data/gatehouse.db', ...(opts.feedRetentionMs === undefined ? {} : { feedRetentionMs: opts.feedRetentionMs }) });
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    const { openPostgresStores } = await import('./postgres/index.js');
    return openPostgresStores({
      url,
      statementTimeoutMs: opts.timeoutMs ?? CONFIG_DEFAULTS.storeTimeout,
      ...(opts.schema ? { schema: opts.schema } : {}),
      ...(opts.feedRetentionMs === undefined ? {} : { feedRetentionMs: opts.feedRetentionMs }),
    });
  }
  if (url.startsWith('mysql://') || url.startsWith('mariadb://')) {
    const { openMysqlStores } = await import('./mysql/index.js');
    return openMysqlStores({
      url,
      timeoutMs: opts.timeoutMs ?? CONFIG_DEFAULTS.storeTimeout,
      ...(opts.feedRetentionMs === undefined ? {} : { feedRetentionMs: opts.feedRetentionMs }),
    });
  }
  throw new Error(`unsupported database URL scheme: ${url.split(':')[0]}: (use sqlite:, postgres://, mysql://, mariadb:// or memory:)`);
}
