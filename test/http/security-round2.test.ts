/**
 * Regression tests for findings of the second security review that are not covered next to their
 * feature: the reset confirmation's cost and budget, revocations that must outlive long access
 * tokens, a renewal write that finds its session gone, and the expired-row sweep in library use.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { compose } from '../../src/compose.js';
import { createGatehouseNode } from '../../src/http/node.js';
import { createLocalFeed, createMemoryStores } from '../../src/stores/memory/index.js';
import { openSqliteStores } from '../../src/stores/sqlite/index.js';
import { TestClock } from '../support/clock.js';
import { cookieLogin, register } from '../support/flows.js';
import { CHEAP_HASHING, Client, GOOD_PASSWORD, startTestServer, uniqueEmail } from '../support/server.js';
import { startMailServer } from '../support/smtp.js';

const HOUR = 3_600_000;
const LONG_TOKENS = { token: { accessTtl: '4h', maxAge: '4h' } } as const;

describe('password reset confirmation', () => {
  test('a made-up token costs no password hash, and confirmations are limited per client IP', async () => {
    const s = await startMailServer({ rateLimits: { enabled: true }, lifecycle: { resetConfirmPerIp: 5 } });
    try {
      const core = s.t.srv.gatehouse.core;
      const before = core.diagnostics().passwordHashes;
      for (let i = 0; i < 5; i++) {
        const r = await new Client(s.t.url).req('POST', '/auth/password-reset/confirm', { json: { token: `${'a'.repeat(22)}.${'b'.repeat(43)}`, new_password: 'a fine new passphrase' } });
        assert.equal(r.status, 400);
        assert.equal(r.body.code, 'invalid_link');
      }
      assert.equal(core.diagnostics().passwordHashes, before, 'the token is checked before anything is hashed');
      const limited = await new Client(s.t.url).req('POST', '/auth/password-reset/confirm', { json: { token: `${'a'.repeat(22)}.${'b'.repeat(43)}`, new_password: 'a fine new passphrase' } });
      assert.equal(limited.status, 429);
      assert.ok(Number(limited.headers.get('retry-after')) > 0);
    } finally {
      await s.close();
    }
  });
});

describe('revocations outlive the longest access token', () => {
  test('the core refuses to start on a change feed that forgets a revocation before the tokens it ends expire', async () => {
    await assert.rejects(
      startTestServer({ config: LONG_TOKENS, stores: createMemoryStores({ feed: createLocalFeed({ retentionMs: 2 * HOUR }) }) }),
      (e: Error) => e instanceof TypeError && /GATEHOUSE_ACCESS_TOKEN_TTL/.test(e.message) && /feedRetentionMs/.test(e.message),
    );
  });

  test('the composed stores keep revocations as long as the configured tokens live', async () => {
    const rt = await compose({ config: { databaseUrl: 'memory:', passwordHashing: CHEAP_HASHING, rateLimits: { enabled: false }, ...LONG_TOKENS } });
    await rt.close();
  });

  test('an instance that never heard of a logout refuses the token on first sight (the session is confirmed in the store)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-restart-'));
    const path = join(dir, 'gatehouse.db');
    const clock = new TestClock();
    // Two instances on one database; the second one's feed is its own, as after a restart past the feed's memory.
    const a = await startTestServer({ clock, config: LONG_TOKENS, stores: openSqliteStores({ path, feedRetentionMs: 6 * HOUR }) });
    const b = await startTestServer({ clock, config: LONG_TOKENS, stores: openSqliteStores({ path, feed: createLocalFeed({ retentionMs: 6 * HOUR }) }) });
    try {
      const email = uniqueEmail('restart');
      await register(a, email);
      const login = await new Client(a.url).req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD, mode: 'token' } });
      assert.equal(login.status, 200);
      const token = login.body.access_token as string;
      assert.equal((await new Client(a.url).req('POST', '/auth/logout', { bearer: token })).status, 204);
      clock.advance(3 * HOUR);
      const r = await new Client(b.url).req('GET', '/auth/me', { bearer: token });
      assert.equal(r.status, 401, 'a logged-out token 3 h later, on an instance that missed the logout');
    } finally {
      await a.close();
      await b.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('sliding renewal', () => {
  test('a renewal write that finds the session gone ends it here too, instead of caching it as live', async () => {
    const t = await startTestServer({ config: { session: { renewInterval: '10s' } } });
    try {
      const email = uniqueEmail('touch');
      await register(t, email);
      const s = await cookieLogin(t, email);
      assert.equal((await s.client.req('GET', '/auth/me')).status, 200);
      // Ended by a write this instance did not hear of (another instance whose feed message is late).
      assert.ok(await t.stores.sessions.deleteSession(s.id));
      t.clock.advance(11_000); // a renewal is due, while the cached copy is still fresh (60 s)
      assert.equal((await s.client.req('GET', '/auth/me')).status, 401);
      assert.equal((await s.client.req('GET', '/auth/me')).status, 401, 'and stays refused');
    } finally {
      await t.close();
    }
  });
});

describe('expired-row sweep', () => {
  test('runs in library use too: expired sessions leave the database without `gatehouse serve`', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-sweep-'));
    const path = join(dir, 'gatehouse.db');
    const clock = new TestClock();
    const gh = await createGatehouseNode({ clock, config: { databaseUrl: `sqlite:${path}`, cleanupInterval: '1s', passwordHashing: CHEAP_HASHING, rateLimits: { enabled: false } } });
    const db = new Database(path, { readonly: true });
    try {
      const email = uniqueEmail('sweep');
      await gh.core.lifecycle.register(email, GOOD_PASSWORD, { ip: null, userAgent: null }, async () => false);
      const login = await gh.core.signIn.password(email, GOOD_PASSWORD, 'session', { ip: null, userAgent: null });
      assert.equal(login.ok, true);
      const count = () => (db.prepare('SELECT count(*) AS n FROM sessions').get() as { n: number }).n;
      assert.equal(count(), 1);
      clock.advance(13 * HOUR); // past the 12 h absolute lifetime
      const deadline = Date.now() + 10_000;
      while (count() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      assert.equal(count(), 0, 'the sweep removed the expired session');
    } finally {
      db.close();
      await gh.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
