/**
 * The scale bench (bench/scale/run.ts) end to end with a small population: 2,000 live sessions on
 * SQLite and Redis, one-second measurements. It checks that the run completes and writes well-formed
 * results and that it leaves nothing behind in the shared services — not how fast anything is
 * (timings are the bench's business, never the suite's).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import type { ScaleResults, ScaleGoal } from '../../bench/scale/report.js';

const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const N = 2000;
const out = mkdtempSync(join(tmpdir(), 'gh-scale-smoke-'));
let results: ScaleResults & { goals: ScaleGoal[] };
let stderr = '';

async function redisUp(): Promise<boolean> {
  const r = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 2000, retryStrategy: () => null });
  r.on('error', () => {});
  try {
    await r.connect();
    await r.ping();
    return true;
  } catch {
    return false;
  } finally {
    r.disconnect();
  }
}

const positive = (x: unknown, what: string) => assert.ok(typeof x === 'number' && Number.isFinite(x) && x > 0, `${what}: ${String(x)}`);

// Without Redis outside CI the run covers SQLite only, and the Redis checks are skipped saying why; under
// CI a missing Redis fails the suite.
const withRedis = await redisUp();
if (!withRedis && process.env.CI) throw new Error(`Redis is not reachable at ${REDIS_URL}: the scale smoke test needs it (set BENCH_REDIS_URL)`);
const stores = withRedis ? ['sqlite', 'redis'] : ['sqlite'];
const noRedis = withRedis ? false : `Redis is not reachable at ${REDIS_URL}`;

describe('bench:scale with a small N', { timeout: 180_000 }, () => {
  before(async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/scale/run.ts'], {
      env: { ...process.env, SCALE_N: String(N), SCALE_STORES: stores.join(','), SCALE_DURATION: '0.5', SCALE_WARMUP: '0', SCALE_CONNECTIONS: '8', SCALE_REVOKED: '500', BENCH_PIN: '0', SCALE_OUT: out, BENCH_REDIS_URL: REDIS_URL },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-4000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), 170_000);
    const [code] = (await once(child, 'exit')) as [number | null];
    clearTimeout(timer);
    assert.equal(code, 0, `bench:scale failed:\n${stderr}`);
    results = JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8')) as typeof results;
  });
  after(() => rmSync(out, { recursive: true, force: true }));

  test('every store has a level of N sessions with hit and miss figures, start-up, and bytes per session', () => {
    assert.deepEqual(results.stores.map((s) => s.store), stores);
    for (const s of results.stores) {
      assert.equal(s.levels.length, 1);
      const l = s.levels[0]!;
      assert.equal(l.n, N);
      assert.equal(l.users, N / 4);
      assert.equal(l.revoked, 500);
      for (const path of ['hit', 'miss'] as const) {
        const sample = l[path]!;
        positive(sample.rps, `${s.store} ${path} req/s`);
        positive(sample.requests, `${s.store} ${path} requests`);
        assert.equal(sample.non2xx, 0, `${s.store} ${path}: every GET /auth/me answered 2xx`);
        assert.ok(sample.latency.p99 >= sample.latency.p50, `${s.store} ${path}: p99 ≥ p50`);
      }
      positive(l.startup?.startMs, `${s.store} start-up ms`);
      positive(l.startup?.heapUsed, `${s.store} heap after start`);
      positive(l.bytes.perSession, `${s.store} bytes per session`);
      positive(s.memory?.bytesPerSession, `${s.store} memory per cached session`);
    }
  });

  test('the SQLite sweep removes exactly the expired rows it was given; Redis has none to sweep', () => {
    const [sqlite, redis] = results.stores;
    assert.equal(sqlite!.sweep!.rows, N);
    assert.equal(sqlite!.sweep!.removed, N);
    positive(sqlite!.sweep!.idle.rps, 'idle req/s');
    positive(sqlite!.sweep!.during.rps, 'req/s during the sweep');
    if (withRedis) assert.equal(redis!.sweep, null);
  });

  test('goals are evaluated from the figures, and the Markdown and SVG are written', () => {
    const names = results.goals.map((g) => g.name);
    assert.ok(names.some((n) => n.startsWith('sqlite: miss-path')));
    assert.ok(names.some((n) => n.startsWith('sqlite: process memory per cached session')));
    for (const g of results.goals) assert.equal(typeof g.met, 'boolean');
    const md = readFileSync(join(out, 'latest.md'), 'utf8');
    assert.match(md, /^# Scale bench /);
    assert.match(md, /\| sqlite \| 2,000 \|/);
    const svg = readFileSync(join(out, 'latest.svg'), 'utf8');
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.ok((svg.match(/<path /g) ?? []).length >= 4, 'a line per series');
    assert.ok(svg.trimEnd().endsWith('</svg>'));
  });

  test('the run leaves no keys in Redis', { skip: noRedis }, async () => {
    const r = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    try {
      const left: string[] = [];
      let cursor = '0';
      do {
        const [next, keys] = await r.scan(cursor, 'MATCH', `${String(results.config.run)}:*`, 'COUNT', 10_000);
        cursor = next;
        left.push(...keys);
      } while (cursor !== '0');
      assert.deepEqual(left, []);
    } finally {
      r.disconnect();
    }
  });
});
