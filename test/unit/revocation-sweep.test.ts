import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RevocationSet } from '../../src/core/revocations.js';
import type { ChangeEvent, ChangeFeed } from '../../src/ports.js';
import { createLocalFeed } from '../../src/stores/memory/feed.js';

/** A feed whose link says it is up but delivers nothing: a LISTEN or SUBSCRIBE lost without an error. */
function silentFeed(inner: ChangeFeed): ChangeFeed {
  return {
    publish: (e) => inner.publish(e),
    subscribe: (h) => inner.subscribe({ event: () => {}, status: (c) => h.status(c) }),
    replay: (since) => inner.replay(since),
    retentionMs: inner.retentionMs,
    get connected() {
      return inner.connected;
    },
    close: () => inner.close(),
  };
}

describe('revocation set safety-net sweep', () => {
  it('a revocation the live link never delivered is applied by the next sweep of the retained log', async () => {
    const inner = createLocalFeed();
    const set = new RevocationSet(silentFeed(inner), { now: () => Date.now() }, 60_000);
    set.start();
    await set.settled();
    assert.equal(set.trusted, true);
    const e: ChangeEvent = { type: 'sessions.revoked', ids: ['lost-1', 'lost-2'], at: Date.now() };
    await inner.publish(e);
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(set.has('lost-1'), false, 'the silent link delivered nothing');
    await set.sweep();
    assert.equal(set.has('lost-1'), true);
    assert.equal(set.has('lost-2'), true);
    set.stop();
    await inner.close();
  });

  it('does not sweep while the feed is untrusted (the store is read instead)', async () => {
    const inner = createLocalFeed();
    let replays = 0;
    const feed = silentFeed(inner);
    let report: ((up: boolean) => void) | null = null;
    const counting: ChangeFeed = {
      ...feed,
      subscribe: (h) => ((report = h.status), feed.subscribe(h)),
      replay: (s) => ((replays += 1), feed.replay(s)),
      get connected() {
        return inner.connected;
      },
    };
    const set = new RevocationSet(counting, { now: () => Date.now() }, 60_000);
    set.start();
    await set.settled();
    const before = replays;
    report!(false); // the link reports itself down: the set no longer trusts itself
    assert.equal(set.trusted, false);
    await set.sweep();
    assert.equal(replays, before);
    set.stop();
    await inner.close();
  });
});

describe('revocation set sweep after the log was unreadable', () => {
  it('a sweep after failed sweeps reads back to the last one that succeeded, so a revocation older than one window is still applied', async () => {
    let now = 1_000_000;
    const inner = createLocalFeed({ clock: { now: () => now } });
    let failing = false;
    const feed = silentFeed(inner);
    const flaky: ChangeFeed = {
      ...feed,
      replay: (since) => (failing ? Promise.reject(new Error('the log is failing over')) : feed.replay(since)),
      get connected() {
        return inner.connected;
      },
    };
    const set = new RevocationSet(flaky, { now: () => now }, 3_600_000);
    set.start();
    await set.settled();
    await set.sweep(); // a sweep that succeeds
    // The link drops this event silently, then the log cannot be read for 40 s (eight sweeps).
    await inner.publish({ type: 'sessions.revoked', ids: ['while-down'], at: now + 1000 });
    failing = true;
    for (let k = 0; k < 8; k++) {
      now += 5000;
      await set.sweep();
    }
    assert.equal(set.has('while-down'), false);
    failing = false;
    now += 5000;
    await set.sweep();
    assert.equal(set.has('while-down'), true, 'the first sweep that succeeds again finds the event 44 s back');
    set.stop();
    await inner.close();
  });
});

describe('revocation set sweep: user and key changes', () => {
  it('a user change the live link never delivered is applied by the next sweep, once', async () => {
    const inner = createLocalFeed();
    const changed: string[] = [];
    let keys = 0;
    const set = new RevocationSet(silentFeed(inner), { now: () => Date.now() }, 60_000, { userChanged: (id) => changed.push(id), keysChanged: () => (keys += 1) });
    set.start();
    await set.settled();
    await inner.publish({ type: 'user.changed', userId: 'u-password-changed', at: Date.now() });
    await inner.publish({ type: 'keys.changed', at: Date.now() });
    await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(changed, [], 'the silent link delivered nothing');
    await set.sweep();
    assert.deepEqual(changed, ['u-password-changed'], 'its cached profile is dropped');
    assert.equal(keys, 1, 'the key ring reloads');
    await set.sweep();
    assert.deepEqual(changed, ['u-password-changed'], 'not applied again');
    assert.equal(keys, 1);
    set.stop();
    await inner.close();
  });
});
