import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { ChangeEvent, ChangeFeed } from '../../../src/ports.js';
import { rid, waitFor } from '../fixtures.js';

function collector(feed: ChangeFeed): { events: ChangeEvent[]; stop: () => void } {
  const events: ChangeEvent[] = [];
  const stop = feed.subscribe({ event: (e) => events.push(e), status: () => {} });
  return { events, stop };
}

export function feedContract(get: () => ChangeFeed): void {
  it('is connected once started', async () => {
    assert.ok(await waitFor(() => get().connected), 'feed never reported connected');
  });

  it('publish delivers the event to every subscriber, this process included', async () => {
    await waitFor(() => get().connected);
    const a = collector(get());
    const b = collector(get());
    const e: ChangeEvent = { type: 'sessions.revoked', ids: [rid(), rid()], at: Date.now() };
    await get().publish(e);
    await get().publish({ type: 'keys.changed', at: Date.now() });
    assert.ok(await waitFor(() => a.events.length >= 2 && b.events.length >= 2), 'not delivered to both subscribers');
    assert.deepEqual(a.events[0], e);
    assert.deepEqual(b.events[0], e);
    assert.equal(a.events[1]?.type, 'keys.changed');
    a.stop();
    b.stop();
  });

  it('a subscriber that throws does not keep the event from the others', async () => {
    await waitFor(() => get().connected);
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      const before = collector(get());
      const broken = get().subscribe({
        event: () => {
          throw new Error('a broken subscriber');
        },
        status: () => {},
      });
      const after = collector(get());
      const e: ChangeEvent = { type: 'sessions.revoked', ids: [rid()], at: Date.now() };
      await get().publish(e);
      assert.ok(await waitFor(() => before.events.length >= 1 && after.events.length >= 1), 'a throwing subscriber starved the others');
      assert.deepEqual([before.events[0], after.events[0]], [e, e]);
      assert.ok(await waitFor(() => warnings.some((m) => m.includes('a broken subscriber'))), 'the failure is reported');
      broken();
      before.stop();
      after.stop();
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('an unsubscribed handler receives nothing more', async () => {
    await waitFor(() => get().connected);
    const a = collector(get());
    const b = collector(get());
    a.stop();
    await get().publish({ type: 'keys.changed', at: Date.now() });
    assert.ok(await waitFor(() => b.events.length >= 1));
    assert.equal(a.events.length, 0);
    b.stop();
  });

  it('replay(since) resolves retained events published at or after since, in order', async () => {
    await waitFor(() => get().connected);
    const start = Date.now();
    const e1: ChangeEvent = { type: 'sessions.revoked', ids: [rid()], at: start };
    const e2: ChangeEvent = { type: 'keys.changed', at: start };
    await get().publish(e1);
    await get().publish(e2);
    const replayed = await get().replay(start);
    const mine = replayed.filter((e) => JSON.stringify(e) === JSON.stringify(e1) || JSON.stringify(e) === JSON.stringify(e2));
    assert.deepEqual(mine, [e1, e2]);
    assert.deepEqual(await get().replay(Date.now() + 60_000), []);
  });
}
