import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { CONFIG_DEFAULTS } from '../../config.js';
import type { ConnectionOptions } from 'node:tls';
import { StoreUnavailableError } from '../../errors.js';
import { parseRedisUrl, type RedisTarget } from './url.js';

export type RedisClient = Redis | Cluster;

export interface ConnectOptions {
  /** See url.ts for the forms: one server, a Cluster, or a master found through Sentinel. */
  url: string;
  /** Read a plain `redis[s]://host:port` URL as a Cluster seed. */
  cluster?: boolean;
  commandTimeoutMs?: number;
  /** Extra TLS settings (a private CA, a client certificate) for URLs that ask for TLS. */
  tls?: ConnectionOptions;
}

/** Reply errors that mean "Redis is not able to serve right now", not "this command is wrong". */
const TRANSIENT_REPLY = /^(CLUSTERDOWN|TRYAGAIN|LOADING|MASTERDOWN|BUSY|READONLY|MOVED|ASK|NOSCRIPT|NOREPLICAS|UNBLOCKED)\b/;

export function wrapError(e: unknown): unknown {
  if (e instanceof StoreUnavailableError) return e;
  if (e instanceof Error && e.name === 'ReplyError' && !TRANSIENT_REPLY.test(e.message)) return e;
  return new StoreUnavailableError('redis', e);
}

/** Runs one operation; any connection failure or timeout becomes StoreUnavailableError. */
export async function guard<T>(p: Promise<T> | (() => Promise<T>)): Promise<T> {
  try {
    return await (typeof p === 'function' ? p() : p);
  } catch (e) {
    throw wrapError(e);
  }
}

/**
 * Resolves once the client is connected; rejects with StoreUnavailableError (the last connection
 * error as its cause: a refused password, an unreachable node) after `ms`.
 */
export function whenReady(client: RedisClient, ms: number): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    let last: unknown = null;
    const onError = (e: unknown) => {
      last = e;
    };
    const finish = (err: unknown) => {
      clearTimeout(timer);
      client.off('ready', onReady);
      client.off('error', onError);
      if (err) reject(err);
      else resolve();
    };
    const onReady = () => finish(null);
    const timer = setTimeout(() => finish(new StoreUnavailableError('redis', last ?? new Error(`not connected within ${ms} ms`))), ms);
    client.on('ready', onReady);
    client.on('error', onError);
  });
}

/**
 * What to connect to: the URL's target, or with `cluster: true` a plain `redis[s]://` URL read as a
 * one-node seed list (its path, a database number, is meaningless on a cluster and dropped).
 */
export function targetOf(url: string, cluster?: boolean): RedisTarget {
  const t = parseRedisUrl(url);
  if (!cluster || t.kind !== 'single') return t;
  return parseRedisUrl(t.url.replace(/^redis(s?):/i, 'redis$1+cluster:').replace(/^([^/]*\/\/[^/?#]*)[^?#]*/, '$1'));
}

/**
 * Opens a client that never waits forever: commands time out after `commandTimeoutMs`, commands
 * issued while disconnected fail once that time is up, and the client reconnects by itself —
 * after a failover too: a Cluster client follows the promoted replica (MOVED, slot refresh), a
 * Sentinel client asks the Sentinels for the new master and drops a connection to a demoted one.
 */
export function connect(opts: ConnectOptions): RedisClient {
  const timeout = opts.commandTimeoutMs ?? CONFIG_DEFAULTS.storeTimeout;
  const base: RedisOptions = {
    commandTimeout: timeout,
    connectTimeout: timeout,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: true,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 5), 1000),
    lazyConnect: false,
  };
  const target = targetOf(opts.url, opts.cluster);
  const tls = (on: boolean) => (on ? { ...(opts.tls ?? {}) } : undefined);
  let client: RedisClient;
  if (target.kind === 'cluster') {
    client = new Cluster(target.nodes, {
      redisOptions: {
        ...base,
        ...(target.username ? { username: target.username } : {}),
        ...(target.password ? { password: target.password } : {}),
        ...(target.tls ? { tls: tls(true) } : {}),
      },
      clusterRetryStrategy: (times) => Math.min(100 * times, 1000),
      // While the client has no slot map (at start, or with every node gone) a command fails at once
      // instead of waiting in a queue that no timeout covers; commands for one node that is down
      // wait in that node's queue, bounded by commandTimeout. openRedisStores awaits whenReady().
      enableOfflineQueue: false,
      slotsRefreshTimeout: timeout,
    });
    // A client learns of a promoted replica from a MOVED reply or a refresh of its slot map: without
    // a periodic refresh, one that has not sent to that slot since would still name the old master —
    // which, restarted empty, claims its slots for a moment before it learns it was replaced. Not
    // ioredis's `slotsRefreshInterval`: a refresh in flight when the client is closed re-arms it for
    // good (a closed client that keeps its process alive); this timer is unref'd and stops at 'end'.
    const cluster = client;
    const refresh = setInterval(() => {
      if (cluster.status === 'ready') cluster.refreshSlotsCache();
    }, 1000);
    refresh.unref();
    cluster.once('end', () => clearInterval(refresh));
  } else if (target.kind === 'sentinel') {
    client = new Redis({
      ...base,
      sentinels: target.sentinels,
      name: target.name,
      db: target.db,
      ...(target.username ? { username: target.username } : {}),
      ...(target.password ? { password: target.password } : {}),
      ...(target.sentinelUsername ? { sentinelUsername: target.sentinelUsername } : {}),
      ...(target.sentinelPassword ? { sentinelPassword: target.sentinelPassword } : {}),
      ...(target.tls ? { tls: tls(true), enableTLSForSentinelMode: true, sentinelTLS: tls(true) } : {}),
      sentinelCommandTimeout: timeout,
      sentinelRetryStrategy: (times) => Math.min(100 * times, 1000),
      // A master that dies closes the connection, and the client asks the Sentinels again. A master
      // demoted without dying (a manual or partition-driven failover) answers a write READONLY:
      // reconnect (the Sentinels name the new one); the command itself fails and its request gets
      // 503. ioredis's `failoverDetector` is left off: its disconnect during a reconnection leaves
      // the client ended for good (seen in the failover bed: an instance that never served again).
      reconnectOnError: (err) => (err.message.startsWith('READONLY') ? 1 : false),
    });
  } else {
    client = new Redis(target.url, { ...base, ...(opts.tls && /^rediss:/i.test(target.url) ? { tls: { ...opts.tls } } : {}) });
  }
  // Errors reach callers through their commands; the event itself must not crash the process.
  client.on('error', () => {});
  return client;
}
