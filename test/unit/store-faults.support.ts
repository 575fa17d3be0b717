/** Shared helpers of the store fault tests. */
import assert from 'node:assert/strict';
import { StoreUnavailableError } from '../../src/errors.js';
import type { ChangeEvent, ChangeFeed } from '../../src/ports.js';

/** Resolves how long `p` took to reject, asserting it rejected with StoreUnavailableError. */
export async function rejectsUnavailable(p: Promise<unknown>): Promise<number> {
  const t0 = Date.now();
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof StoreUnavailableError, `expected StoreUnavailableError, got ${String(e)}`);
    assert.equal(e.code, 'store_unavailable');
    assert.ok((e.retryAfter ?? 0) > 0, 'carries Retry-After');
    return true;
  });
  return Date.now() - t0;
}

export async function eventually<T>(what: string, f: () => Promise<T>, timeoutMs = 10_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await f();
    } catch (e) {
      if (Date.now() > until) throw new Error(`${what} did not recover within ${timeoutMs} ms: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Records status changes and events; `nth(n)` waits for the n-th status report. */
export function watch(feed: ChangeFeed) {
  const statuses: boolean[] = [];
  const events: ChangeEvent[] = [];
  let onDown: (() => void) | null = null;
  const stop = feed.subscribe({
    event: (e) => events.push(e),
    status: (s) => {
      statuses.push(s);
      if (!s && onDown) onDown();
    },
  });
  /** Waits until the n-th status report (1-based) has arrived, then resolves it. */
  const nth = (n: number, ms = 30_000) =>
    eventually(`status report #${n}`, async () => {
      if (statuses.length < n) throw new Error(`only ${statuses.length} status reports`);
      return statuses[n - 1]!;
    }, ms);
  return { statuses, events, nth, stop, onDownOnce: (f: () => void) => (onDown = () => ((onDown = null), f())) };
}

