/**
 * `gatehouse serve --workers N`: N worker processes share one port and serve; a worker that dies
 * is replaced; SIGTERM stops them all and the primary exits 0. Without Redis, the brute-force
 * counters are shared by the workers (kept in the primary), so N workers do not multiply a limit.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { freePort, http, ROOT, serverCommand, stopProcess, waitFor } from './bed.js';

/** Pids of the live worker processes (children running `serve`) of `pid`, from /proc. */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // Only Gatehouse workers (a TypeScript loader may run a helper process of its own).
      if (Number(fields[1]) === pid && fields[0] !== 'Z' && readFileSync(`/proc/${e}/cmdline`, 'utf8').includes('serve')) out.push(Number(e));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

test('serve --workers 2 starts two workers that share the port, replaces one that dies, and stops them all on SIGTERM', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-workers-'));
  const port = await freePort();
  const command = serverCommand();
  const logPath = join(dir, 'serve.log');
  const fd = openSync(logPath, 'a');
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('GATEHOUSE_') && k !== 'NODE_TEST_CONTEXT' && k !== 'NODE_OPTIONS') env[k] = v;
  const primary = spawn(command[0]!, [...command.slice(1), 'serve', '--workers', '2'], {
    cwd: ROOT,
    env: {
      ...env,
      PORT: String(port),
      GATEHOUSE_HOST: '127.0.0.1',
      GATEHOUSE_DATABASE_URL: 'memory:',
      GATEHOUSE_DATA_DIR: dir,
      GATEHOUSE_PUBLIC_URL: `http://localhost:${port}`,
      GATEHOUSE_UNSAFE_WEAK_PASSWORD_HASHING: 'true',
      GATEHOUSE_PASSWORD_HASH_MEMORY: '1024',
      GATEHOUSE_PASSWORD_HASH_TIME: '1',
      GATEHOUSE_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  const exit = new Promise<number | null>((r) => primary.once('exit', (code) => r(code)));
  try {
    await waitFor('two workers', async () => childrenOf(primary.pid!).length === 2, 30_000, 100).catch((e) => {
      throw new Error(`${(e as Error).message}; children ${JSON.stringify(childrenOf(primary.pid!))}; log: ${readFileSync(logPath, 'utf8').slice(-1500)}`);
    });
    await waitFor('the shared port to answer', async () => (await http(`http://127.0.0.1:${port}/healthz`, { timeoutMs: 1000 })).status === 200, 30_000, 100);
    const workers = childrenOf(primary.pid!);
    // Both workers accept on the one port (the primary hands connections round-robin): every
    // fresh connection is answered, whichever worker takes it.
    for (let k = 0; k < 20; k++) {
      const r = await http(`http://127.0.0.1:${port}/healthz`, { headers: { connection: 'close' }, timeoutMs: 2000 });
      assert.equal(r.status, 200);
    }
    // A worker that dies is replaced, and the port keeps serving meanwhile.
    process.kill(workers[0]!, 'SIGKILL');
    await waitFor('a replacement worker', async () => {
      const now = childrenOf(primary.pid!);
      return now.length === 2 && !now.includes(workers[0]!);
    }, 20_000, 100);
    await waitFor('the replacement to serve', async () => (await http(`http://127.0.0.1:${port}/healthz`, { headers: { connection: 'close' }, timeoutMs: 1000 })).status === 200, 20_000, 100);
    const last = childrenOf(primary.pid!);
    process.kill(primary.pid!, 'SIGTERM');
    const code = await Promise.race([exit, new Promise<string>((r) => setTimeout(() => r('still running'), 20_000))]);
    assert.equal(code, 0, `the primary exits 0 after stopping its workers (log: ${readFileSync(logPath, 'utf8').slice(-1000)})`);
    const alive = (p: number) => {
      try {
        return !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${p}/stat`, 'utf8'));
      } catch {
        return false;
      }
    };
    assert.deepEqual(last.filter(alive), [], 'no worker is left');
  } finally {
    await stopProcess(primary, 5000);
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Starts `gatehouse serve --workers N` on a SQLite file in `dir` (no Redis), logging to `dir`/serve.log. */
function serveWorkers(n: number, dir: string, port: number, extraEnv: Record<string, string> = {}) {
  const command = serverCommand();
  const logPath = join(dir, 'serve.log');
  const fd = openSync(logPath, 'a');
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('GATEHOUSE_') && k !== 'NODE_TEST_CONTEXT' && k !== 'NODE_OPTIONS') env[k] = v;
  const primary = spawn(command[0]!, [...command.slice(1), 'serve', '--workers', String(n)], {
    cwd: ROOT,
    env: {
      ...env,
      PORT: String(port),
      GATEHOUSE_HOST: '127.0.0.1',
      GATEHOUSE_DATABASE_URL: `sqlite:${join(dir, 'gh.db')}`,
      GATEHOUSE_DATA_DIR: dir,
      GATEHOUSE_PUBLIC_URL: `http://localhost:${port}`,
      GATEHOUSE_UNSAFE_WEAK_PASSWORD_HASHING: 'true',
      GATEHOUSE_PASSWORD_HASH_MEMORY: '1024',
      GATEHOUSE_PASSWORD_HASH_TIME: '1',
      GATEHOUSE_LOG_LEVEL: 'info',
      ...extraEnv,
    },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  return { primary, log: () => readFileSync(logPath, 'utf8') };
}

/**
 * The request lines for `method path`, once `n` of them are in the log: workers write request lines
 * asynchronously, in chunks flushed at least once a second, so they can trail the answers.
 */
async function requestLines(log: () => string, method: string, path: string, n: number): Promise<string[]> {
  const needle = `"method":"${method}","path":"${path}"`;
  let lines: string[] = [];
  await waitFor(`${n} request lines for ${method} ${path}`, async () => {
    lines = log().split('\n').filter((l) => l.includes(needle));
    return lines.length >= n;
  }, 10_000, 100);
  return lines;
}

test('serve --workers 4 without Redis: the per-account limit (10) holds across workers — 10 × 401, then 429, also after a worker is replaced', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-workers-rl-'));
  const port = await freePort();
  const { primary, log } = serveWorkers(4, dir, port, { GATEHOUSE_RATE_LIMIT_ACCOUNT_ATTEMPTS: '10' });
  const base = `http://127.0.0.1:${port}`;
  try {
    await waitFor('four workers', async () => childrenOf(primary.pid!).length === 4, 30_000, 100).catch((e) => {
      throw new Error(`${(e as Error).message}; log: ${log().slice(-1500)}`);
    });
    // Every worker must be listening before the count starts, or the first requests all land on one.
    await waitFor('every worker to listen', async () => (log().match(/gatehouse listening/g) ?? []).length >= 4, 30_000, 100);
    const email = `workers${process.pid}@example.com`;
    const reg = await http(`${base}/auth/register`, { method: 'POST', body: { email, password: 'correct horse battery staple' }, headers: { connection: 'close' } });
    assert.equal(reg.status, 201, reg.body);

    // 60 wrong passwords, each on a fresh connection: the primary deals connections round-robin.
    const statuses: number[] = [];
    for (let i = 0; i < 60; i++) {
      const r = await http(`${base}/auth/login`, { method: 'POST', body: { email, password: `wrong password number ${i}` }, headers: { connection: 'close' } });
      statuses.push(r.status);
    }
    const firstLimited = statuses.indexOf(429);
    const unauthorizedBefore = statuses.slice(0, firstLimited < 0 ? statuses.length : firstLimited).filter((s) => s === 401).length;
    process.stdout.write(`# workers: ${unauthorizedBefore} × 401 before the first 429 (limit 10, 4 workers)\n`);
    assert.equal(unauthorizedBefore, 10, `statuses: ${statuses.join(' ')}`);
    assert.deepEqual(new Set(statuses.slice(10)), new Set([429]), `statuses: ${statuses.join(' ')}`);

    // The logins really were spread over the workers (each worker's pid is on its lines).
    const pids = new Set((await requestLines(log, 'POST', '/auth/login', 60)).map((l) => JSON.parse(l).pid as number));
    assert.ok(pids.size >= 3, `logins reached ${pids.size} worker(s)`);

    // A replaced worker does not start from zero: the counts live in the primary.
    const victim = childrenOf(primary.pid!)[0]!;
    process.kill(victim, 'SIGKILL');
    await waitFor('a replacement worker', async () => {
      const now = childrenOf(primary.pid!);
      return now.length === 4 && !now.includes(victim);
    }, 20_000, 100);
    await waitFor('the replacement to listen', async () => (log().match(/gatehouse listening/g) ?? []).length >= 5, 30_000, 100);
    for (let i = 0; i < 8; i++) {
      const r = await http(`${base}/auth/login`, { method: 'POST', body: { email, password: 'correct horse battery staple' }, headers: { connection: 'close' } });
      assert.equal(r.status, 429, 'throttled on every worker, even for the right password');
    }
  } finally {
    await stopProcess(primary, 5000);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('serve --workers 2 with GATEHOUSE_METRICS_PORT: the primary serves every worker\'s metrics, summed', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-workers-metrics-'));
  const port = await freePort();
  const metricsPort = await freePort();
  const { primary, log } = serveWorkers(2, dir, port, { GATEHOUSE_METRICS_PORT: String(metricsPort) });
  try {
    await waitFor('every worker to listen', async () => (log().match(/gatehouse listening/g) ?? []).length >= 2, 30_000, 100).catch((e) => {
      throw new Error(`${(e as Error).message}; log: ${log().slice(-1500)}`);
    });
    // Fresh connections: the primary deals them to both workers.
    for (let i = 0; i < 20; i++) assert.equal((await http(`http://127.0.0.1:${port}/healthz`, { headers: { connection: 'close' } })).status, 200);
    const pids = new Set((await requestLines(log, 'GET', '/healthz', 20)).map((l) => JSON.parse(l).pid as number));
    assert.equal(pids.size, 2, 'both workers answered');
    const r = await http(`http://127.0.0.1:${metricsPort}/metrics`);
    assert.equal(r.status, 200, r.body.slice(0, 300));
    const line = r.body.split('\n').find((l) => l.startsWith('gatehouse_http_request_duration_seconds_count{route="/healthz",method="GET",status="200"}'));
    assert.equal(line?.split(' ').pop(), '20', `the sum over both workers: ${line}`);
    assert.match(r.body, /^gatehouse_revocation_feed_trusted 1$/m, 'min over workers: every worker trusts its feed');
    assert.equal((await http(`http://127.0.0.1:${port}/metrics`)).status, 404, 'not on the main port');
  } finally {
    await stopProcess(primary, 5000);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('serve --workers with GATEHOUSE_METRICS_TOKEN is refused at start, pointing to GATEHOUSE_METRICS_PORT', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-workers-token-'));
  const { primary, log } = serveWorkers(2, dir, await freePort(), { GATEHOUSE_METRICS_TOKEN: 'a-metrics-token-of-more-than-32-characters' });
  try {
    const code = await new Promise<number | null>((r) => primary.once('exit', (c) => r(c)));
    assert.notEqual(code, 0);
    assert.match(log(), /GATEHOUSE_METRICS_PORT/);
    assert.doesNotMatch(log(), /a-metrics-token-of-more/, 'the token is not logged');
  } finally {
    await stopProcess(primary, 5000);
    rmSync(dir, { recursive: true, force: true });
  }
});
