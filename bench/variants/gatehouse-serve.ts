// `gatehouse serve` exactly as a user starts it: `node bin/gatehouse.js serve` from the built package
// (dist/, built by the harness when stale), configured through the environment only, with its
// security headers and one JSON log line per request, stdout appended to a log file. This file only
// starts it, waits for /healthz, prints READY, and on SIGTERM stops it the way an init system does
// (SIGTERM, then waits) — it adds no work to the measured process.
//
// BENCH_SERVE_STORE: `sqlite` (a temporary file) or `redis` (sessions in Redis under a prefix of this
// run, deleted on exit; users in SQLite). Rate limits are off (`GATEHOUSE_RATE_LIMITS=off`): setup and
// storms log in from one IP far more often than any client would; everything else is the default.
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { once } from 'node:events';
import { Redis } from 'ioredis';
import { runId, tempDir } from './_gatehouse.js';
import { gatehousePrefix, redisUrl } from './_redis.js';

const REPO_ROOT = new URL('../../', import.meta.url).pathname;
const store = process.env.BENCH_SERVE_STORE ?? 'sqlite';
if (store !== 'sqlite' && store !== 'redis') throw new Error(`BENCH_SERVE_STORE must be sqlite or redis, got ${store}`);

/** A free port on 127.0.0.1 (the server reads PORT; a user picks one too). */
async function freePort(): Promise<number> {
  const s = createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

const tmp = tempDir();
const logFile = process.env.BENCH_SERVE_LOG ?? join(tmp.dir, 'gatehouse.log');
const prefix = gatehousePrefix(runId());
const port = await freePort();
const env: Record<string, string> = {
  PATH: process.env.PATH ?? '',
  NODE_ENV: 'production',
  PORT: String(port),
  GATEHOUSE_HOST: '127.0.0.1',
  GATEHOUSE_PUBLIC_URL: `http://127.0.0.1:${port}`,
  GATEHOUSE_DATA_DIR: tmp.dir,
  GATEHOUSE_DATABASE_URL: `sqlite:${join(tmp.dir, 'gatehouse.db')}`,
  GATEHOUSE_SECRET: 'bench-secret-bench-secret-bench-secret-0123',
  GATEHOUSE_RATE_LIMITS: 'off',
  ...(store === 'redis' ? { GATEHOUSE_REDIS_URL: redisUrl(), GATEHOUSE_REDIS_PREFIX: prefix } : {}),
};
// Anything the run sets for the server itself (e.g. GATEHOUSE_LOG_LEVEL, GATEHOUSE_PASSWORD_HASH_*).
for (const [k, v] of Object.entries(process.env)) if (k.startsWith('GATEHOUSE_') && v !== undefined) env[k] = v;

const out = openSync(logFile, 'a');
// BENCH_SERVE_NODE_ARGS: node options for the server itself (bench/profile.ts passes --cpu-prof here).
const nodeArgs = (process.env.BENCH_SERVE_NODE_ARGS ?? '').split(' ').filter(Boolean);
const child = spawn(process.execPath, [...nodeArgs, join(REPO_ROOT, 'bin/gatehouse.js'), 'serve'], { cwd: tmp.dir, env, stdio: ['ignore', out, out] });
closeSync(out);
const exited = once(child, 'exit');

async function cleanup(): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 4_000);
    await exited;
    clearTimeout(timer);
  }
  if (process.env.BENCH_SERVE_LOG === undefined) tmp.remove();
  if (store === 'redis') {
    const redis = new Redis(redisUrl(), { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
    try {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length > 0) await redis.unlink(...keys);
      } while (cursor !== '0');
    } finally {
      redis.disconnect();
    }
  }
}

let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  setTimeout(() => process.exit(1), 5_500).unref();
  cleanup().then(() => process.exit(0), (err: unknown) => {
    process.stderr.write(`cleanup failed: ${String(err)}\n`);
    process.exit(1);
  });
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
void exited.then(([code]) => {
  if (stopping) return;
  let tail = '';
  try {
    tail = readFileSync(logFile, 'utf8').trim().split('\n').slice(-3).join(' | ');
  } catch {}
  process.stderr.write(`gatehouse serve exited with ${code}: ${tail}\n`);
  process.exit(1);
});

// Ready when /healthz answers (bounded by the harness's readiness timeout).
for (;;) {
  const ok = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(1000) }).then((r) => r.ok, () => false);
  if (ok) break;
  await new Promise((r) => setTimeout(r, 100));
}
process.stdout.write(`READY ${port}\n`);
