import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runStorm } from '../lib/storm.js';

function fakeClock() {
  let t = 0;
  // sleep lets pending callbacks run first (as a real timer would), then moves the clock.
  const sleep = async (ms: number): Promise<void> => {
    await new Promise((r) => setImmediate(r));
    t += ms;
  };
  return { now: () => t, sleep, advance: (ms: number) => void (t += ms) };
}

test('a storm starts rate × duration logins on schedule and reports their p99', async () => {
  const clock = fakeClock();
  const seen: number[] = [];
  const stats = await runStorm({
    ratePerSec: 20,
    durationMs: 1000,
    now: clock.now,
    sleep: clock.sleep,
    login: async (i) => {
      seen.push(i);
      clock.advance(1);
    },
  });
  assert.deepEqual(seen, Array.from({ length: 20 }, (_, i) => i));
  assert.equal(stats.succeeded, 20);
  assert.equal(stats.achievedPerSec, 20);
  assert.equal(stats.failed + stats.skipped, 0);
  assert.equal(stats.latencyP99Ms, 1);
});

test('a stalled server makes the storm skip logins instead of piling them up', async () => {
  const clock = fakeClock();
  const release: Array<() => void> = [];
  const done = runStorm({
    ratePerSec: 10,
    durationMs: 1000,
    maxInFlight: 3,
    now: clock.now,
    sleep: clock.sleep,
    login: () => new Promise<void>((r) => release.push(r)),
  });
  // Let the loop walk its whole schedule (the last login is due at 900 ms) with nothing answered.
  for (let i = 0; i < 1000 && clock.now() < 900; i++) await new Promise((r) => setImmediate(r));
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  assert.equal(release.length, 3);
  for (const r of release) r();
  const stats = await done;
  assert.equal(stats.attempted, 3);
  assert.equal(stats.skipped, 7);
});

test('failed logins are counted, not thrown', async () => {
  const clock = fakeClock();
  const stats = await runStorm({ ratePerSec: 5, durationMs: 1000, now: clock.now, sleep: clock.sleep, login: async () => Promise.reject(new Error('401')) });
  assert.equal(stats.failed, 5);
  assert.equal(stats.succeeded, 0);
});

test('logins refused with 503 (admission control) are counted apart from failures, with the median and p99 of the successes', async () => {
  const clock = fakeClock();
  const stats = await runStorm({
    ratePerSec: 10,
    durationMs: 1000,
    now: clock.now,
    sleep: clock.sleep,
    login: async (i) => {
      if (i % 2 === 1) throw Object.assign(new Error('503'), { status: 503 });
      if (i === 8) throw Object.assign(new Error('500'), { status: 500 });
    },
  });
  assert.equal(stats.refused, 5);
  assert.equal(stats.failed, 1);
  assert.equal(stats.succeeded, 4);
  assert.equal(stats.latencyP50Ms, 0);
});
