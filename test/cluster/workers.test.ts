/**
 * `gatehouse serve --workers N`: N worker processes share one port and serve; a worker that dies
 * is replaced; SIGTERM stops them all and the primary exits 0.
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
