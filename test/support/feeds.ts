/** Feeds for tests that need to cut the link between instances. */
import type { ChangeFeed, ChangeFeedHandlers } from '../../src/ports.js';
import { createLocalFeed } from '../../src/stores/memory/index.js';

/** The local feed, with a link the test can drop and restore (status(false) / status(true), as a lost LISTEN does). */
export function switchableFeed(): ChangeFeed & { down(): void; up(): void } {
  const inner = createLocalFeed();
  const handlers = new Set<ChangeFeedHandlers>();
  let linked = true;
  return {
    publish: (e) => inner.publish(e),
    subscribe(h) {
      handlers.add(h);
      const stop = inner.subscribe({ event: (e) => linked && h.event(e), status: (c) => h.status(c) });
      return () => {
        handlers.delete(h);
        stop();
      };
    },
    replay: (since) => inner.replay(since),
    retentionMs: inner.retentionMs,
    get connected() {
      return linked && inner.connected;
    },
    close: () => inner.close(),
    down() {
      linked = false;
      for (const h of handlers) h.status(false);
    },
    up() {
      linked = true;
      for (const h of handlers) h.status(true);
    },
  };
}
