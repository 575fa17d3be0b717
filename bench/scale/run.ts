/**
 * Cost as work grows: fills each store with N live sessions (10k, 100k, 1M by default) and 100k
 * revocations, and measures at each N
 *   - GET /auth/me req/s and p99 on the hit path (a working set of 10k sessions that fits the cache)
 *     and on the miss path (cache off: every request reads the session and its user from the store,
 *     requests spread over all N sessions);
 *   - server start-up time and memory (store open, keys, replay of the change feed into the revocation set);
 *   - bytes per session in the store (SQLite pages, PostgreSQL table + indexes, Redis memory);
 * then, once per store, process memory per cached session (bench/scale/memory.ts) and, on the SQL
 * stores, GET /auth/me p99 while the sweep deletes as many expired rows as the largest N, against idle.
 *
 *   npm run bench:scale
 *   SCALE_N=2000 SCALE_STORES=sqlite SCALE_DURATION=1 SCALE_OUT=/tmp/x npm run bench:scale   # a smoke run
 *
 * Settings (environment): SCALE_N (comma list), SCALE_STORES (sqlite,redis,postgres), SCALE_DURATION
 * (s, default 5), SCALE_WARMUP (s, 1), SCALE_CONNECTIONS (50), SCALE_REVOKED (100000), SCALE_MEMORY_K
 * (100000, capped by the largest N), SCALE_OUT (bench/results/scale), BENCH_PIN=0 (no pinning),
 * BENCH_POSTGRES_URL, BENCH_REDIS_URL. Every database, schema and key prefix it makes is its own and
 * dropped at the end, on failure too.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Redis } from 'ioredis';
import { postgresSessionBytes, sqliteSessionBytes } from '../lib/disk-bytes.js';
import { killAll, pinningAvailable, REPO_ROOT, startServer, type RunningServer } from '../lib/procs.js';
import { waitForQuiet } from '../lib/quiet.js';
import { postgresUrl } from '../variants/_sql.js';
import { redisUrl } from '../variants/_redis.js';
import { openFiller, type Filler, type StoreKind, type Target } from './fill.js';
import { SESSIONS_PER_USER, usersFor } from './fixture.js';
import type { ScaleLoadSpec } from './load.js';
import { writeScaleResults, type LevelResult, type ScaleResults, type ScaleSample, type StoreResult } from './report.js';

const num = (name: string, dflt: number): number => {
  const v = process.env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number`);
  return n;
};
const levels = (process.env.SCALE_N ?? '10000,100000,1000000').split(',').map((s) => Number(s.trim())).filter((n) => n > 0).sort((a, b) => a - b);
if (levels.length === 0) throw new Error('SCALE_N names no level');
const stores = (process.env.SCALE_STORES ?? 'sqlite,redis,postgres').split(',').map((s) => s.trim()) as StoreKind[];
for (const s of stores) if (!['sqlite', 'redis', 'postgres'].includes(s)) throw new Error(`unknown store ${s}`);
const cfg = {
  levels,
  stores,
  durationS: num('SCALE_DURATION', 5),
  warmupS: num('SCALE_WARMUP', 1),
  connections: num('SCALE_CONNECTIONS', 50),
  revoked: num('SCALE_REVOKED', 100_000),
  hitSet: 10_000,
  missSet: 200_000,
  memoryK: Math.min(num('SCALE_MEMORY_K', 100_000), Math.max(0, levels.at(-1)! - 400)),
  sweepRows: levels.at(-1)!,
  out: process.env.SCALE_OUT ?? join(REPO_ROOT, 'bench/results/scale'),
};
const pin = pinningAvailable();
const COOKIE = '__Host-gatehouse';
const runName = `scale_${process.pid}_${Date.now().toString(36)}`;
const seed = runName;
const log = (msg: string) => process.stderr.write(`[scale] ${msg}\n`);

/** Stores being filled or measured: an interrupted run still drops what it made (bounded: 15 s). */
const active = new Set<Place>();
process.on('SIGINT', () => {
  killAll();
  const timer = setTimeout(() => process.exit(130), 15_000);
  void Promise.allSettled([...active].map((p) => p.cleanup())).then(() => {
    clearTimeout(timer);
    process.exit(130);
  });
});

/**
 * Runs bench/scale/load.ts (pinned to core 0), bounded by its duration + 60 s. Before it, waits (10 s at
 * most) for the machine's other work to fall under 25 % CPU and records what it found with the sample.
 */
async function load(spec: ScaleLoadSpec, quiet = true): Promise<ScaleSample> {
  const busy = quiet ? await waitForQuiet(25, 10_000) : undefined;
  const node = [process.execPath, '--import', 'tsx', 'bench/scale/load.ts'];
  const [cmd, args] = pin ? ['taskset', ['-c', '0', ...node]] : [node[0]!, node.slice(1)];
  const child = spawn(cmd as string, args as string[], { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(-2000)));
  child.stdin!.end(JSON.stringify(spec));
  const timer = setTimeout(() => child.kill('SIGKILL'), (spec.durationS + spec.warmupS + 60) * 1000);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  const line = out.trim().split('\n').at(-1) ?? '';
  if (code !== 0 || !line.startsWith('{')) throw new Error(`scale load generator failed (exit ${code}): ${err.trim().split('\n').slice(-3).join(' | ')}`);
  const s = JSON.parse(line) as ScaleSample;
  // A run with refusals measured something else (e.g. 401s are cheaper): discard it loudly.
  if (s.non2xx > 0 || s.errors > 0) throw new Error(`GET /auth/me answered ${s.non2xx} non-2xx and ${s.errors} errors`);
  if (busy !== undefined) s.cpuBusyBefore = busy;
  return s;
}

/** Runs bench/scale/memory.ts with --expose-gc (not pinned: no load runs beside it). */
async function memory(spec: object): Promise<{ bytesPerSession: number; bytesPerUser: number; k: number }> {
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', 'bench/scale/memory.ts'], { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(-2000)));
  child.stdin!.end(JSON.stringify(spec));
  const timer = setTimeout(() => child.kill('SIGKILL'), 300_000);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  const line = out.trim().split('\n').at(-1) ?? '';
  if (code !== 0 || !line.startsWith('{')) throw new Error(`memory measurement failed (exit ${code}): ${err.trim().split('\n').slice(-3).join(' | ')}`);
  return JSON.parse(line) as { bytesPerSession: number; bytesPerUser: number; k: number };
}

async function getJson<T>(url: string, method = 'GET', timeoutMs = 10_000): Promise<T> {
  const res = await fetch(url, { method, signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`${method} ${url} answered ${res.status}`);
  return (await res.json()) as T;
}

interface Place {
  target: Target;
  env: Record<string, string>;
  config: Record<string, unknown>;
  bytes(): Promise<{ total: number; perSession: number | null; method: string }>;
  cleanup(): Promise<void>;
  sweeps: boolean;
}

async function place(kind: StoreKind): Promise<Place> {
  const dir = mkdtempSync(join(tmpdir(), 'gh-scale-'));
  const sqlitePath = join(dir, 'gatehouse.db');
  const base = { publicUrl: 'http://127.0.0.1', logLevel: 'silent', dataDir: dir, session: { idleTtl: '2d', absoluteTtl: '7d', renewInterval: '1d' } };
  if (kind === 'sqlite') {
    const measure = sqliteSessionBytes(sqlitePath);
    return {
      target: { kind, sqlitePath },
      env: { SCALE_DATABASE_URL: `sqlite:${sqlitePath}`, SCALE_DATA_DIR: dir },
      config: { ...base, databaseUrl: `sqlite:${sqlitePath}` },
      bytes: async () => ({ total: await measure(), perSession: null, method: 'dbstat pages of sessions + its indexes' }),
      cleanup: async () => rmSync(dir, { recursive: true, force: true }),
      sweeps: true,
    };
  }
  if (kind === 'postgres') {
    const url = postgresUrl();
    const schema = runName;
    const measure = postgresSessionBytes(url, schema);
    return {
      target: { kind, sqlitePath, postgres: { url, schema } },
      env: { SCALE_DATABASE_URL: url, SCALE_SCHEMA: schema, SCALE_DATA_DIR: dir, SCALE_SECRET: 'scale-bench-secret-0123456789abcdef' },
      config: { ...base, databaseUrl: url, databaseSchema: schema, secret: 'scale-bench-secret-0123456789abcdef' },
      bytes: async () => ({ total: await measure(), perSession: null, method: 'pg_total_relation_size(sessions)' }),
      cleanup: async () => {
        rmSync(dir, { recursive: true, force: true });
        const c = new pg.Client({ connectionString: url });
        await c.connect();
        try {
          await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        } finally {
          await c.end();
        }
      },
      sweeps: true,
    };
  }
  const url = redisUrl();
  const prefix = `${runName}:`;
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  return {
    target: { kind, sqlitePath, redis: { url, prefix } },
    env: { SCALE_DATABASE_URL: `sqlite:${sqlitePath}`, SCALE_DATA_DIR: dir, SCALE_REDIS_URL: url, SCALE_REDIS_PREFIX: prefix },
    config: { ...base, databaseUrl: `sqlite:${sqlitePath}`, redisUrl: url, redisPrefix: prefix },
    // MEMORY USAGE of the session hashes of a sample of users, over the sessions they hold.
    bytes: async () => {
      let bytes = 0;
      let sessions = 0;
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}u:*`, 'COUNT', 1000);
        cursor = next;
        for (const key of keys) {
          bytes += Number(await redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0'));
          sessions += await redis.hlen(key);
        }
      } while (cursor !== '0' && sessions < 20_000);
      return { total: bytes, perSession: sessions > 0 ? bytes / sessions : null, method: 'MEMORY USAGE of sampled per-user session hashes / their sessions' };
    },
    cleanup: async () => {
      rmSync(dir, { recursive: true, force: true });
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 5000);
        cursor = next;
        if (keys.length > 0) await redis.unlink(...keys);
      } while (cursor !== '0');
      redis.disconnect();
    },
    sweeps: false,
  };
}

async function withServer<T>(p: Place, cacheEntries: number, work: (s: RunningServer, base: string) => Promise<T>): Promise<T> {
  const s = await startServer('bench/scale/server.ts', { ...p.env, SCALE_CACHE_ENTRIES: String(cacheEntries), BENCH_RUN_ID: runName }, pin, 120_000, ['--expose-gc']);
  try {
    return await work(s, `http://127.0.0.1:${s.port}`);
  } finally {
    await s.stop();
  }
}

const loadSpec = (base: string, n: number, count: number, salt: number, durationS = cfg.durationS): ScaleLoadSpec => ({
  url: `${base}/auth/me`,
  cookieName: COOKIE,
  connections: cfg.connections,
  durationS,
  warmupS: cfg.warmupS,
  seed,
  n,
  count: Math.min(n, count),
  salt,
  // The hit path's working set is cached before the measurement; the miss path's is never cached.
  prime: count <= cfg.hitSet,
});

interface Startup {
  startMs: number;
  processMs: number;
  heapUsed: number;
  rss: number;
}

async function runStore(kind: StoreKind): Promise<StoreResult> {
  const p = await place(kind);
  active.add(p);
  const result: StoreResult = { store: kind, levels: [], memory: null, sweep: null };
  let filler: Filler | null = null;
  try {
    const at = Date.now();
    const pop = { seed, at };
    filler = await openFiller(p.target, pop);
    let users = 0;
    let sessions = 0;
    for (const n of cfg.levels) {
      let t = Date.now();
      await filler.users(users, usersFor(n));
      users = usersFor(n);
      await filler.sessions('live', sessions, n);
      sessions = n;
      const fillMs = Date.now() - t;
      log(`${kind} ${n}: filled in ${fillMs} ms`);
      const bytes = await p.bytes();
      // Fresh revocations (the feed replays those younger than the revocation horizon on start).
      await filler.revocations(cfg.revoked, Date.now());
      const level: LevelResult = { n, users, revoked: cfg.revoked, fillMs, bytes: { ...bytes, perSession: bytes.perSession ?? bytes.total / n }, startup: null, hit: null, miss: null };
      await withServer(p, 100_000, async (_s, base) => {
        const stats = await getJson<{ startup: Startup }>(`${base}/__scale/stats`);
        level.startup = stats.startup;
        level.hit = await load(loadSpec(base, n, cfg.hitSet, 1));
      });
      log(`${kind} ${n}: hit ${Math.round(level.hit!.rps)} req/s p99 ${level.hit!.latency.p99} ms; start ${Math.round(level.startup!.startMs)} ms`);
      await withServer(p, 0, async (_s, base) => {
        level.miss = await load(loadSpec(base, n, cfg.missSet, 2));
      });
      log(`${kind} ${n}: miss ${Math.round(level.miss!.rps)} req/s p99 ${level.miss!.latency.p99} ms`);
      result.levels.push(level);
      if (result.memory === null && cfg.memoryK > 0 && n >= cfg.memoryK + 400) {
        result.memory = await memory({ config: p.config, seed, n, k: cfg.memoryK });
        log(`${kind}: ${Math.round(result.memory.bytesPerSession)} B per cached session`);
      }
    }
    if (p.sweeps) {
      const t = Date.now();
      const rows = cfg.sweepRows;
      await filler.users(users, Math.max(users, usersFor(rows)));
      await filler.sessions('expired', 0, rows);
      log(`${kind}: ${rows} expired rows filled in ${Date.now() - t} ms`);
      const n = sessions;
      result.sweep = await withServer(p, 100_000, async (_s, base) => {
        const idle = await load(loadSpec(base, n, cfg.hitSet, 3));
        // The sweep starts with the measurement (after the warm-up) and runs beside it.
        const spec = loadSpec(base, n, cfg.hitSet, 4, cfg.durationS);
        const during = load(spec, false);
        await new Promise((r) => setTimeout(r, (cfg.warmupS + 0.5) * 1000));
        const sweep = await getJson<{ ms: number; removed: { sessions: number } }>(`${base}/__scale/sweep`, 'POST', 600_000);
        return { rows, idle, during: await during, sweepMs: sweep.ms, removed: sweep.removed.sessions };
      });
      log(`${kind}: sweep of ${result.sweep.removed} rows in ${Math.round(result.sweep.sweepMs)} ms; p99 idle ${result.sweep.idle.latency.p99} ms, during ${result.sweep.during.latency.p99} ms`);
    }
    return result;
  } finally {
    await filler?.close().catch(() => {});
    await p.cleanup().catch((e: unknown) => log(`cleanup of ${kind} failed: ${String(e)}`));
    active.delete(p);
  }
}
const started = new Date();
const results: StoreResult[] = [];
let failed = false;
for (const kind of cfg.stores) {
  log(`${kind}: start`);
  try {
    results.push(await runStore(kind));
  } catch (e) {
    // The other stores still run; the failure is in the results and the exit status.
    failed = true;
    log(`${kind} failed: ${(e as Error).message}`);
    results.push({ store: kind, levels: [], memory: null, sweep: null, error: (e as Error).message });
  }
}
const full: ScaleResults = {
  date: started.toISOString().slice(0, 10),
  started_at: started.toISOString(),
  finished_at: new Date().toISOString(),
  config: { ...cfg, out: undefined, sessionsPerUser: SESSIONS_PER_USER, run: runName },
  machine: { node: process.version, cores: availableParallelism(), pinning: pin ? 'server core 1, load generator core 0' : 'none' },
  stores: results,
};
mkdirSync(cfg.out, { recursive: true });
process.stdout.write(writeScaleResults(cfg.out, full));
if (failed) process.exitCode = 1;
