/**
 * Rate-limit counters shared by the workers of one `gatehouse serve --workers N` without Redis: the
 * counters live in the cluster's primary process (rate-limiter-flexible's RateLimiterClusterMaster)
 * and each worker asks it over node:cluster's IPC channel (RateLimiterCluster). Every worker then
 * counts against the same budget, as instances sharing Redis do, and a worker that is replaced keeps
 * nothing to lose: the counts stay in the primary.
 *
 * The primary calls `serveClusterCounters()` before forking; a worker calls `useClusterCounters()`
 * before it creates its rate limits. Both are per process, and only `gatehouse serve --workers`
 * calls them: a library user's own node:cluster setup keeps its per-process (or Redis) counters.
 */
import cluster from 'node:cluster';
import { RateLimiterCluster, RateLimiterClusterMaster, type RateLimiterAbstract } from 'rate-limiter-flexible';

/** How long a worker waits for the primary's answer before the request gets 503 (as a store timeout). */
export const CLUSTER_COUNTER_TIMEOUT_MS = 2000;

let workerSide: { timeoutMs: number } | null = null;

/** In the primary: keeps the counters every worker shares. Idempotent. */
export function serveClusterCounters(): void {
  if (!cluster.isPrimary) throw new TypeError('serveClusterCounters runs in the cluster primary');
  new RateLimiterClusterMaster();
}

/** In a worker: rate limits created from now on count in the primary. */
export function useClusterCounters(opts: { timeoutMs?: number } = {}): void {
  if (!cluster.isWorker) throw new TypeError('useClusterCounters runs in a cluster worker');
  workerSide = { timeoutMs: opts.timeoutMs ?? CLUSTER_COUNTER_TIMEOUT_MS };
}

/** A limiter counting in the primary, or null when this process does not share counters that way. */
export function clusterLimiter(base: { keyPrefix: string; points: number; duration: number; blockDuration: number }): RateLimiterAbstract | null {
  return workerSide ? new RateLimiterCluster({ ...base, timeoutMs: workerSide.timeoutMs }) : null;
}
