import type { ChangeEvent, ChangeFeedHandlers } from '../ports.js';

/**
 * The subscriber side of every change feed (memory, SQLite, PostgreSQL, Redis): one delivery path.
 *
 * Events are delivered in a microtask per subscriber, with a copy of the event each, so a publisher
 * never runs handlers inside its own call stack and no handler can change what another sees. A
 * handler that throws is reported (`onError`) and the others still get the event — one broken
 * subscriber never starves the rest, and never crashes the process from a microtask.
 */
export class Subscribers {
  private readonly handlers = new Set<ChangeFeedHandlers>();

  constructor(private readonly onError: (e: unknown) => void = (e) => process.emitWarning(`a change-feed subscriber threw: ${String(e)}`)) {}

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
        if (!this.handlers.has(h)) return;
        try {
          h.event(copy);
        } catch (err) {
          this.onError(err);
        }
      });
    }
  }

  /** Tells every subscriber the feed went up or down. */
  status(up: boolean): void {
    for (const h of [...this.handlers]) {
      try {
        h.status(up);
      } catch (err) {
        this.onError(err);
      }
    }
  }

  /** Tells every subscriber the feed is gone, and forgets them. */
  closeAll(): void {
    const hs = [...this.handlers];
    this.handlers.clear();
    for (const h of hs) {
      try {
        h.status(false);
      } catch (err) {
        this.onError(err);
      }
    }
  }
}
