import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CLI_ENTRY, CLI_ROOT, cliEnv, runCli, type CliRun } from '../support/cli.js';
import { Client, GOOD_PASSWORD } from '../support/server.js';

let dir: string;
let env: NodeJS.ProcessEnv;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'gatehouse-cli-'));
  env = cliEnv(dir, 'info');
});
after(() => rmSync(dir, { recursive: true, force: true }));

const cli = (args: string[], opts: { stdin?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliRun> =>
  runCli(args, { env: { ...env, ...opts.env }, stdin: opts.stdin ?? '' });

const lines = (s: string) => s.split('\n').filter(Boolean);

/** Starts `gatehouse serve` on a free port; resolves its URL once it logs that it listens. */
function serve(): Promise<{ url: string; child: ChildProcess; stop: () => Promise<number | null> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI_ENTRY, 'serve'], {
      cwd: CLI_ROOT,
      env: { ...env, PORT: '0', GATEHOUSE_HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not start: ${out} ${err}`));
    }, 30_000);
    child.stderr.on('data', (d) => (err += d));
    child.stdout.on('data', (d) => {
      out += d;
      for (const l of lines(out)) {
        let j: { msg?: string; port?: number };
        try {
          j = JSON.parse(l);
        } catch {
          continue;
        }
        if (j.msg === 'gatehouse listening' && j.port) {
          clearTimeout(timer);
          const stop = () =>
            new Promise<number | null>((r) => {
              if (child.exitCode !== null) return r(child.exitCode);
              child.once('close', (code) => r(code));
              child.kill('SIGTERM');
            });
          resolve({ url: `http://127.0.0.1:${j.port}`, child, stop });
          return;
        }
      }
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}: ${err}`));
    });
  });
}

describe('gatehouse CLI on a SQLite file', () => {
  test('migrate creates the schema and is idempotent', async () => {
    for (let i = 0; i < 2; i++) {
      const r = await cli(['migrate']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /up to date/);
    }
  });

  test('user add reads the password from stdin, user list shows the user, and the password never reaches the output', async () => {
    const r = await cli(['user', 'add', 'Alice@Example.com'], { stdin: `${GOOD_PASSWORD}\n` });
    assert.equal(r.code, 0, r.stderr);
    const added = JSON.parse(lines(r.stdout)[0]!);
    assert.equal(added.email, 'Alice@Example.com');
    assert.ok(!r.stdout.includes(GOOD_PASSWORD) && !r.stderr.includes(GOOD_PASSWORD));
    const again = await cli(['user', 'add', 'alice@example.com'], { stdin: 'another long passphrase\n' });
    assert.equal(again.code, 1, 'a look-alike of an existing address is refused');
    const weak = await cli(['user', 'add', 'bob@example.com'], { stdin: 'short\n' });
    assert.notEqual(weak.code, 0);
    assert.match(weak.stderr, /password_too_short/);
    const list = await cli(['user', 'list']);
    assert.equal(list.code, 0, list.stderr);
    const users = lines(list.stdout).map((l) => JSON.parse(l));
    assert.deepEqual(users.map((u) => [u.id, u.email, u.disabled]), [[added.id, 'Alice@Example.com', false]]);
  });

  test('a bad environment value exits with code 2 and a message naming the variable', async () => {
    const r = await cli(['user', 'list'], { env: { GATEHOUSE_SESSION_IDLE_TTL: 'forever' } });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /GATEHOUSE_SESSION_IDLE_TTL/);
    const s = await cli(['serve'], { env: { PORT: 'eighty' } });
    assert.equal(s.code, 2);
    assert.match(s.stderr, /\bPORT\b/);
    // A renewal interval that would sign active users out is refused, naming both variables.
    const renew = await cli(['serve'], { env: { GATEHOUSE_SESSION_IDLE_TTL: '4s', GATEHOUSE_SESSION_RENEW_INTERVAL: '1m' } });
    assert.equal(renew.code, 2, renew.stderr);
    assert.match(renew.stderr, /GATEHOUSE_SESSION_RENEW_INTERVAL/);
    assert.match(renew.stderr, /GATEHOUSE_SESSION_IDLE_TTL/);
  });

  test('an unknown command exits with code 2 and prints usage', async () => {
    const r = await cli(['frobnicate']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /usage: gatehouse/);
  });

  test('keys list shows a signing key and keys rotate adds one', async () => {
    const before = await cli(['keys', 'list']);
    assert.equal(before.code, 0, before.stderr);
    const n = lines(before.stdout).length;
    assert.ok(n >= 1);
    const rot = await cli(['keys', 'rotate']);
    assert.equal(rot.code, 0, rot.stderr);
    const { kid } = JSON.parse(lines(rot.stdout)[0]!);
    const afterList = lines((await cli(['keys', 'list'])).stdout).map((l) => JSON.parse(l));
    assert.equal(afterList.length, n + 1);
    assert.ok(afterList.some((k) => k.kid === kid));
    for (const k of afterList) assert.equal(k.d, undefined, 'no private key material printed');
  });

  test('user disable marks the user disabled so a server refuses them, and user delete removes the user', async () => {
    const email = 'dave@example.com';
    assert.equal((await cli(['user', 'add', email], { stdin: `${GOOD_PASSWORD}\n` })).code, 0);
    const d = await cli(['user', 'disable', email]);
    assert.equal(d.code, 0, d.stderr);
    assert.match(d.stdout, /disabled/);
    const listed = lines((await cli(['user', 'list'])).stdout).map((l) => JSON.parse(l));
    assert.equal(listed.find((u) => u.email === email)?.disabled, true);
    const srv = await serve();
    try {
      assert.equal((await new Client(srv.url).req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD } })).status, 401);
      assert.equal((await new Client(srv.url).req('POST', '/auth/login', { json: { email: 'alice@example.com', password: GOOD_PASSWORD } })).status, 200);
    } finally {
      assert.equal(await srv.stop(), 0, 'graceful shutdown on SIGTERM exits 0');
    }
    const del = await cli(['user', 'delete', email]);
    assert.equal(del.code, 0, del.stderr);
    assert.ok(!lines((await cli(['user', 'list'])).stdout).some((l) => JSON.parse(l).email === email));
    assert.equal((await cli(['user', 'delete', email])).code, 1, 'deleting a missing user fails');
  });

  test(
    "user disable through the CLI makes a running server (same SQLite file) refuse that user's live session within a second",
    async () => {
      const email = 'carol@example.com';
      assert.equal((await cli(['user', 'add', email], { stdin: `${GOOD_PASSWORD}\n` })).code, 0);
      const srv = await serve();
      try {
        const c = new Client(srv.url);
        assert.equal((await c.req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD } })).status, 200);
        assert.equal((await c.req('GET', '/auth/me')).status, 200);
        assert.equal((await cli(['user', 'disable', email])).code, 0);
        const deadline = Date.now() + 1000;
        let status = 200;
        while (Date.now() < deadline) {
          status = (await c.req('GET', '/auth/me')).status;
          if (status === 401) break;
          await new Promise((r) => setTimeout(r, 50)); // another process: there is no clock to move
        }
        assert.equal(status, 401, 'the live session fails once the user is disabled');
      } finally {
        await srv.stop();
      }
    },
  );
});
