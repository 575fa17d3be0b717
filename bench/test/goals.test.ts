import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateGoals, rpsRatio } from '../goals.js';
import type { VariantSummary } from '../lib/summary.js';
import { median } from '../lib/stats.js';

function v(name: string, rps: number, extra: Partial<VariantSummary> = {}): VariantSummary {
  return {
    name,
    description: name,
    rounds: 3,
    rps: { min: rps, median: rps, max: rps },
    p99_ms: { min: 10, median: 10, max: 10 },
    p50_ms: { median: 5 },
    errors: [],
    ...extra,
  };
}

test('no goal row appears while no Gatehouse variant ran', () => {
  assert.deepEqual(evaluateGoals([v('bare-express', 7000), v('bare-http', 60000), v('jose-eddsa', 2000)]), []);
});

test('each Gatehouse cookie-session variant present gets an Express ratio row, met at 0.90 or more', () => {
  const goals = evaluateGoals([
    v('bare-express', 1000),
    v('bare-http', 10000),
    v('gatehouse-session-memory', 950),
    v('gatehouse-session-redis', 800),
  ]);
  assert.deepEqual(
    goals.map((g) => [g.name, g.value, g.met]),
    [
      ['gatehouse-session-memory: req/s ≥ 0.90× bare-express', 0.95, true],
      ['gatehouse-session-redis: req/s ≥ 0.90× bare-express', 0.8, false],
    ],
  );
});

test('node-http variants are held to bare-http, not to bare-express', () => {
  const goals = evaluateGoals([v('bare-express', 1000), v('bare-http', 10000), v('gatehouse-node-http-session', 7500)]);
  assert.equal(goals.length, 1);
  assert.equal(goals[0]!.name, 'gatehouse-node-http-session: req/s ≥ 0.70× bare-http');
  assert.equal(goals[0]!.met, true);
});

test('a ratio goal yields nothing when its baseline did not run', () => {
  assert.deepEqual(rpsRatio(/^x$/, 'bare-express', 0.9).evaluate(new Map([['x', v('x', 5)]])), []);
});

test('the login-storm goal compares storm p99 to idle p99, and the Redis goal reads the metric', () => {
  const goals = evaluateGoals([
    v('gatehouse-session-redis', 1, {
      rounds: 3,
      storm: { p99_ms: { median: 25 }, idle_p99_ms: { median: 10 }, logins_per_s: { median: 20 }, login_p99_ms: { median: 80 } },
      metrics: { redisBytesPerSession: 280 },
    }),
  ]);
  assert.deepEqual(
    goals.map((g) => [g.name, g.target, g.value, g.met]),
    [
      ['gatehouse-session-redis: redisBytesPerSession ≤ 300 B', 300, 280, true],
      ['gatehouse-session-redis: p99 during a login storm ≤ 2× idle p99', 2, 2.5, false],
    ],
  );
});

test('median of an even count averages the middle pair', () => {
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([3, 1, 2]), 2);
});

test('the metrics variants are held to the same variant with metrics off (3 % at most), not to bare-express', () => {
  const goals = evaluateGoals([
    v('bare-express', 1000),
    v('gatehouse-session-sqlite', 900),
    v('gatehouse-session-sqlite-metrics', 880),
    v('gatehouse-bearer-eddsa', 950),
    v('gatehouse-bearer-eddsa-metrics', 900),
  ]).filter((g) => g.name.includes('-metrics:') && !g.name.includes('bare-express'));
  assert.deepEqual(
    goals.map((g) => [g.name, g.value, g.met]),
    [
      ['gatehouse-session-sqlite-metrics: req/s ≥ 0.97× gatehouse-session-sqlite', 0.978, true],
      ['gatehouse-bearer-eddsa-metrics: req/s ≥ 0.97× gatehouse-bearer-eddsa', 0.947, false],
    ],
  );
});
