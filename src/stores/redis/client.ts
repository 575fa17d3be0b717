import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { StoreUnavailableError } from '../../errors.js';

export type RedisClient = Redis | Cluster;

export interface ConnectOptions {
  url: string;
  cluster?: boolean;
  commandTimeoutMs?: number;
}

/** Reply errors that mean "Redis is not able to serve right now", not "this command is wrong". */
const TRANSIENT_REPLY = /^(CLUSTERDOWN|TRYAGAIN|LOADING|MASTERDOWN|BUSY|READONLY|MOVED|ASK|NOSCRIPT)\b/;

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

function nodesOf(url: string): { host: string; port: number }[] {
  const rest = url.replace(/^redis(\+cluster)?s?:\/\//, '').replace(/\/.*$/, '').replace(/^.*@/, '');
  return rest.split(',').map((hp) => {
    const [host, port] = hp.split(':');
    return { host: host || '127.0.0.1', port: Number(port) || 6379 };
  });
}

/**
 * Opens a client that never waits forever: commands time out after `commandTimeoutMs`, commands
 * issued while disconnected fail once that time is up, and the client reconnects by itself.
 */
export function connect(opts: ConnectOptions): RedisClient {
  const timeout = opts.commandTimeoutMs ?? 2000;
  const base: RedisOptions = {
    commandTimeout: timeout,
    connectTimeout: timeout,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: true,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 5), 1000),
    lazyConnect: false,
  };
  const isCluster = opts.cluster ?? opts.url.startsWith('redis+cluster://');
  let client: RedisClient;
  if (isCluster) {
    client = new Cluster(nodesOf(opts.url), {
      redisOptions: base,
      clusterRetryStrategy: (times) => Math.min(100 * times, 1000),
      enableOfflineQueue: true,
      slotsRefreshTimeout: timeout,
    });
  } else {
    client = new Redis(opts.url.replace(/^redis\+cluster:/, 'redis:'), base);
  }
  // Errors reach callers through their commands; the event itself must not crash the process.
  client.on('error', () => {});
  return client;
}
