import type { ChangeEvent, ChangeFeed, Clock } from '../../ports.js';
import { Subscribers } from '../subscribers.js';

export interface LocalFeedOptions {
  /** How long published events stay available to replay(). Default 2 hours. */
  retentionMs?: number;
  clock?: Clock;
}

const DEFAULT_RETENTION_MS = 2 * 60 * 60 * 1000;

/**
 * An in-process change feed for a single instance (memory and SQLite stores). Delivery is in a
 * microtask per subscriber, so a publisher never runs handlers inside its own call stack. The replay
 * log holds only events younger than the retention, pruned on every publish and replay.
 *
 * @example
 *   const feed = createLocalFeed();
 *   const stop = feed.subscribe({ event: (e) => console.log(e.type), status: () => {} });
 *   await feed.publish({ type: 'keys.changed', at: Date.now() });
 */
export function createLocalFeed(opts: LocalFeedOptions = {}): ChangeFeed {
  const retentionMs = opts.retentionMs ?? DEFAULT_RETENTION_MS;
  if (!Number.isFinite(retentionMs) || retentionMs < 0) throw new TypeError('retentionMs must be a non-negative number');
  const now = () => (opts.clock ? opts.clock.now() : Date.now());
  const subscribers = new Subscribers();
  let log: Array<{ t: number; e: ChangeEvent }> = [];
  let open = true;

  function prune(t: number): void {
    const cutoff = t - retentionMs;
    if (log.length > 0 && log[0]!.t < cutoff) log = log.filter((x) => x.t >= cutoff);
  }

  return {
    retentionMs,
    get connected() {
      return open;
    },
    async publish(e) {
      if (!open) throw new Error('change feed is closed');
      const t = now();
      prune(t);
      log.push({ t, e: structuredClone(e) });
      subscribers.deliver(e);
    },
    subscribe(handlers) {
      return subscribers.add(handlers);
    },
    async replay(since) {
      prune(now());
      return log.filter((x) => x.t >= since).map((x) => structuredClone(x.e));
    },
    async close() {
      if (!open) return;
      open = false;
      log = [];
      subscribers.closeAll();
    },
  };
}
