import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ChangeEvent } from '../../src/ports.js';
import { createLocalFeed } from '../../src/stores/memory/feed.js';

const revoked = (id: string, at: number): ChangeEvent => ({ type: 'sessions.revoked', ids: [id], at });

describe('local change feed', () => {
  it('replays only events younger than the retention, by its clock', async () => {
    let now = 1_000_000;
    const feed = createLocalFeed({ retentionMs: 60_000, clock: { now: () => now } });
    await feed.publish(revoked('a', now));
    now += 30_000;
    await feed.publish(revoked('b', now));
    assert.deepEqual((await feed.replay(0)).map((e) => (e.type === 'sessions.revoked' ? e.ids[0] : '')), ['a', 'b']);
    assert.deepEqual(await feed.replay(now + 1), []);
    now += 30_001; // 'a' is now older than the retention
    assert.deepEqual((await feed.replay(0)).map((e) => (e.type === 'sessions.revoked' ? e.ids[0] : '')), ['b']);
    await feed.close();
  });

  it('delivers after publish returns, never inside the publisher’s call', async () => {
    const feed = createLocalFeed();
    const got: ChangeEvent[] = [];
    feed.subscribe({ event: (e) => got.push(e), status: () => {} });
    const p = feed.publish({ type: 'keys.changed', at: 1 });
    assert.equal(got.length, 0);
    await p;
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(got, [{ type: 'keys.changed', at: 1 }]);
    await feed.close();
  });

  it('a subscriber cannot change what others receive or what is replayed', async () => {
    const feed = createLocalFeed();
    const seen: ChangeEvent[] = [];
    feed.subscribe({ event: (e) => { if (e.type === 'sessions.revoked') e.ids.push('tampered'); }, status: () => {} });
    feed.subscribe({ event: (e) => seen.push(e), status: () => {} });
    await feed.publish(revoked('x', 1));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(seen, [revoked('x', 1)]);
    assert.deepEqual(await feed.replay(0), [revoked('x', 1)]);
    await feed.close();
  });

  it('close reports disconnected to subscribers and refuses further publishes', async () => {
    const feed = createLocalFeed();
    const statuses: boolean[] = [];
    feed.subscribe({ event: () => {}, status: (c) => statuses.push(c) });
    assert.equal(feed.connected, true);
    await feed.close();
    assert.equal(feed.connected, false);
    assert.deepEqual(statuses, [false]);
    await assert.rejects(feed.publish({ type: 'keys.changed', at: 1 }), /closed/);
  });

  it('rejects a negative retention at construction', () => {
    assert.throws(() => createLocalFeed({ retentionMs: -1 }), TypeError);
  });
});
