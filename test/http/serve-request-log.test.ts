/**
 * `gatehouse serve` writes its log asynchronously (src/server/logger.ts) yet keeps one line per
 * request: stdout appended to a file, as an operator runs it, holds exactly one `request` line for
 * every request once the server has stopped on SIGTERM (buffered lines are flushed on shutdown), and
 * none of them carries a credential.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CLI_ENTRY, CLI_ROOT, cliEnv } from '../support/cli.js';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'gatehouse-log-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const requestLines = (file: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((j) => j.msg === 'request');

describe('gatehouse serve request log', () => {
  test('one line per request, all of them in the file after SIGTERM, without credentials', async () => {
    const file = join(dir, 'gatehouse.log');
    const out = openSync(file, 'a');
    const child = spawn(process.execPath, ['--import', 'tsx', CLI_ENTRY, 'serve'], {
      cwd: CLI_ROOT,
      env: { ...cliEnv(dir, 'info'), PORT: '0', GATEHOUSE_HOST: '127.0.0.1' },
      stdio: ['ignore', out, 'pipe'],
    });
    closeSync(out);
    const exited = once(child, 'exit');
    try {
      // The start-up lines are flushed at once (not with the first second of request lines).
      let port = 0;
      const deadline = Date.now() + 30_000;
      while (port === 0 && Date.now() < deadline) {
        const listening = readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { msg?: string; port?: number }).find((j) => j.msg === 'gatehouse listening');
        if (listening?.port) port = listening.port;
        else await new Promise((r) => setTimeout(r, 50));
      }
      assert.ok(port > 0, 'the server logged that it listens');
      const base = `http://127.0.0.1:${port}`;
      const n = 300;
      const statuses: number[] = [];
      for (let i = 0; i < n; i += 30) {
        const batch = await Promise.all(
          Array.from({ length: 30 }, (_, k) =>
            fetch(`${base}${(i + k) % 3 === 0 ? '/healthz' : '/auth/me?x=1'}`, { headers: { cookie: '__Host-gh_session=secret-value', authorization: 'Bearer not-a-token' } }).then(async (r) => {
              await r.arrayBuffer();
              return r.status;
            }),
          ),
        );
        statuses.push(...batch);
      }
      assert.equal(statuses.length, n);
      child.kill('SIGTERM');
      const [code] = (await exited) as [number | null];
      assert.equal(code, 0, 'a clean stop');
      const lines = requestLines(file);
      assert.equal(lines.length, n, 'every request has its line, none lost at shutdown');
      assert.equal(lines.filter((l) => l.path === '/healthz').length, 100);
      assert.equal(lines.filter((l) => l.path === '/auth/me' && l.status === 401).length, 200, 'the path without its query string, with the status');
      for (const l of lines) {
        assert.deepEqual(Object.keys(l).sort(), ['level', 'method', 'ms', 'msg', 'path', 'pid', 'service', 'status', 'time']);
        assert.equal(typeof l.ms, 'number');
      }
      assert.doesNotMatch(readFileSync(file, 'utf8'), /secret-value|not-a-token|x=1/);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
