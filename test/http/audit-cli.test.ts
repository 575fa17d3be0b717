/**
 * `gatehouse audit [--user EMAIL] [--since DURATION]` against a real SQLite file: events are produced
 * over HTTP by a server on that file, then the CLI (a separate process) reads them back.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openSqliteStores } from '../../src/stores/sqlite/index.js';
import { cliEnv, runCli, type CliRun } from '../support/cli.js';
import { TestClock } from '../support/clock.js';
import { Client, GOOD_PASSWORD, startTestServer } from '../support/server.js';

const HOUR = 3_600_000;

const cli = (dir: string, args: string[]): Promise<CliRun> => runCli(['audit', ...args], { env: cliEnv(dir, 'silent') });

const lines = (r: CliRun) =>
  r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { id: string; type: string; userId: string | null; sessionId: string | null; at: string; ip: string | null; userAgent: string | null });

describe('gatehouse audit', () => {
  let dir: string;
  const alice = { email: 'alice@example.com', id: '', sessions: [] as string[], secrets: [] as string[] };
  const bob = { email: 'bob@example.com', id: '', sessions: [] as string[], secrets: [] as string[] };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-audit-cli-'));
    // Old events three hours ago, then recent ones: the server clock is real time shifted back.
    const clock = new TestClock(Date.now() - 3 * HOUR);
    const stores = openSqliteStores({ path: join(dir, 'gh.db') });
    const t = await startTestServer({ stores, clock });
    try {
      for (const u of [alice, bob]) {
        const r = await new Client(t.url).req('POST', '/auth/register', { json: { email: u.email, password: GOOD_PASSWORD } });
        u.id = r.body.user.id;
        const c = new Client(t.url);
        const login = await c.req('POST', '/auth/login', { json: { email: u.email, password: GOOD_PASSWORD }, headers: { 'user-agent': 'audit-cli-test' } });
        u.sessions.push(login.body.session.id);
        u.secrets.push(...c.jar.values());
      }
      clock.set(Date.now() - 60_000);
      const tok = await new Client(t.url).req('POST', '/auth/login', { json: { email: alice.email, password: GOOD_PASSWORD, mode: 'token' } });
      alice.sessions.push(tok.body.session.id);
      alice.secrets.push(tok.body.access_token, tok.body.refresh_token);
      await new Client(t.url).req('POST', '/auth/login', { json: { email: alice.email, password: 'not my password at all' } });
    } finally {
      await t.close();
      await stores.close();
    }
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('prints every event as JSON lines, newest first, with no secret in the output', async () => {
    const r = await cli(dir, []);
    assert.equal(r.code, 0, r.stderr);
    const ev = lines(r);
    assert.deepEqual(
      ev.map((e) => [e.type, e.userId]),
      [
        ['login.failed', alice.id],
        ['login.succeeded', alice.id],
        ['login.succeeded', bob.id],
        ['user.registered', bob.id],
        ['login.succeeded', alice.id],
        ['user.registered', alice.id],
      ],
    );
    assert.equal(ev[1]!.sessionId, alice.sessions[1]);
    assert.equal(ev[2]!.userAgent, 'audit-cli-test');
    assert.ok(!Number.isNaN(Date.parse(ev[0]!.at)));
    for (const s of [GOOD_PASSWORD, 'not my password at all', ...alice.secrets, ...bob.secrets]) assert.ok(!r.stdout.includes(s), 'secret in output');
  });

  test('--user EMAIL shows only that user (the address is matched like at login)', async () => {
    const r = await cli(dir, ['--user', 'BOB@Example.com']);
    assert.equal(r.code, 0, r.stderr);
    const ev = lines(r);
    assert.deepEqual(ev.map((e) => e.type), ['login.succeeded', 'user.registered']);
    assert.ok(ev.every((e) => e.userId === bob.id));
  });

  test('--since DURATION shows only events that recent, and combines with --user', async () => {
    const r = await cli(dir, ['--since', '1h']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(lines(r).map((e) => e.type), ['login.failed', 'login.succeeded']);
    const both = await cli(dir, ['--user', bob.email, '--since', '1h']);
    assert.equal(both.code, 0, both.stderr);
    assert.deepEqual(lines(both), []);
    const wide = await cli(dir, ['--user', bob.email, '--since', '4h']);
    assert.equal(lines(wide).length, 2);
  });

  test('an unknown user or a bad duration fails with a message and a non-zero exit', async () => {
    const unknown = await cli(dir, ['--user', 'nobody@example.com']);
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /no user with email nobody@example.com/);
    assert.equal(unknown.stdout, '');
    const bad = await cli(dir, ['--since', 'yesterday']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /not a duration/);
  });
});
