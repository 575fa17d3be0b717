import type { ChangeEvent, ChangeFeedHandlers } from '../ports.js';

/**
 * The subscriber side of a change feed. Delivery is in a microtask per subscriber, with a copy of the
 * event each, so a publisher never runs handlers inside its own call stack and no handler can change
 * what another sees.
 */
export class Subscribers {
  private readonly handlers = new Set<ChangeFeedHandlers>();

  get size(): number {
    return this.handlers.size;
  }

  /** Subscribing the same handlers twice yields two independent subscriptions. */
  add(handlers: ChangeFeedHandlers): () => void {
    const h: ChangeFeedHandlers = { event: (e) => handlers.event(e), status: (c) => handlers.status(c) };
    this.handlers.add(h);
    return () => {
      this.handlers.delete(h);
    };
  }

  deliver(e: ChangeEvent): void {
    for (const h of this.handlers) {
      const copy = structuredClone(e);
      queueMicrotask(() => {
        if (this.handlers.has(h)) h.event(copy);
      });
    }
  }

  /** Tells every subscriber the feed is gone, and forgets them. */
  closeAll(): void {
    const hs = [...this.handlers];
    this.handlers.clear();
    for (const h of hs) h.status(false);
  }
}
