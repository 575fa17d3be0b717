/** Concurrent-login policies, per mode: a maximum number of sessions per user, and single-session mode. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestServer, uniqueEmail, type TestServer } from '../support/server.js';
import { bearerStatus, cookieLogin, cookieStatus, listIds, refreshStatus, register, tokenLogin, type CookieSession, type TokenSession } from '../support/flows.js';

async function evictions(t: TestServer, userId: string) {
  const events = await t.stores.audit.listEvents({ userId, limit: 1000 });
  return events.filter((e) => e.type === 'session.evicted');
}

describe('policy: at most 3 sessions per user and mode', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ config: { session: { maxPerUser: 3 }, token: { maxPerUser: 3 } } });
  });
  after(() => t.close());

  test('a fourth cookie login evicts the oldest cookie session at once and records the eviction', async () => {
    const email = uniqueEmail('max-c');
    const userId = await register(t, email);
    const s: CookieSession[] = [];
    for (let i = 0; i < 3; i++) {
      s.push(await cookieLogin(t, email));
      t.clock.advance(1000);
    }
    assert.equal(await cookieStatus(s[0]!), 200);
    assert.deepEqual(await evictions(t, userId), []);
    const fourth = await cookieLogin(t, email);
    assert.equal(await cookieStatus(s[0]!), 401);
    for (const x of [s[1]!, s[2]!, fourth]) assert.equal(await cookieStatus(x), 200);
    assert.deepEqual(await listIds(t, fourth), [s[1]!.id, s[2]!.id, fourth.id].sort());
    const ev = await evictions(t, userId);
    assert.equal(ev.length, 1);
    assert.equal(ev[0]!.sessionId, s[0]!.id);
    assert.deepEqual(ev[0]!.detail, { mode: 'session', policy: 'max_sessions' });
    assert.ok(ev[0]!.ip);
    assert.equal(ev[0]!.at, t.clock.now());
  });

  test('a fourth token login evicts the oldest token session: its access token and refresh token die at once', async () => {
    const email = uniqueEmail('max-t');
    const userId = await register(t, email);
    const s: TokenSession[] = [];
    for (let i = 0; i < 3; i++) {
      s.push(await tokenLogin(t, email));
      t.clock.advance(1000);
    }
    assert.equal(await bearerStatus(t, s[0]!), 200);
    await tokenLogin(t, email);
    assert.equal(await bearerStatus(t, s[0]!), 401);
    assert.equal(await refreshStatus(t, s[0]!), 400);
    assert.equal(await bearerStatus(t, s[1]!), 200);
    const ev = await evictions(t, userId);
    assert.equal(ev.length, 1);
    assert.equal(ev[0]!.sessionId, s[0]!.id);
    assert.deepEqual(ev[0]!.detail, { mode: 'token', policy: 'max_sessions' });
  });

  test('the limit is per mode: cookie logins never evict token sessions, nor the reverse', async () => {
    const email = uniqueEmail('max-mix');
    const userId = await register(t, email);
    const tokens: TokenSession[] = [];
    for (let i = 0; i < 3; i++) tokens.push(await tokenLogin(t, email));
    const cookies: CookieSession[] = [];
    for (let i = 0; i < 3; i++) cookies.push(await cookieLogin(t, email));
    assert.deepEqual(await evictions(t, userId), []);
    for (const x of tokens) assert.equal(await bearerStatus(t, x), 200);
    for (const x of cookies) assert.equal(await cookieStatus(x), 200);
    assert.equal((await listIds(t, cookies[0]!)).length, 6);
    // One more cookie login evicts a cookie session only.
    await cookieLogin(t, email);
    for (const x of tokens) assert.equal(await bearerStatus(t, x), 200);
    const ev = await evictions(t, userId);
    assert.equal(ev.length, 1);
    assert.equal(ev[0]!.detail!.mode, 'session');
  });
});

describe('policy: single-session mode per transport', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ config: { session: { single: true }, token: { single: true } } });
  });
  after(() => t.close());

  test('a new cookie login ends the other cookie sessions and leaves token sessions alone', async () => {
    const email = uniqueEmail('single-c');
    const userId = await register(t, email);
    const phone = await tokenLogin(t, email);
    const first = await cookieLogin(t, email);
    const second = await cookieLogin(t, email);
    assert.equal(await cookieStatus(first), 401);
    assert.equal(await cookieStatus(second), 200);
    assert.equal(await bearerStatus(t, phone), 200);
    const ev = await evictions(t, userId);
    assert.equal(ev.length, 1);
    assert.equal(ev[0]!.sessionId, first.id);
    assert.deepEqual(ev[0]!.detail, { mode: 'session', policy: 'single' });
  });

  test('a new token login ends the other token session: access 401, refresh invalid_grant', async () => {
    const email = uniqueEmail('single-t');
    const userId = await register(t, email);
    const laptop = await cookieLogin(t, email);
    const first = await tokenLogin(t, email);
    const second = await tokenLogin(t, email);
    assert.equal(await bearerStatus(t, first), 401);
    assert.equal(await refreshStatus(t, first), 400);
    assert.equal(await bearerStatus(t, second), 200);
    assert.equal(await cookieStatus(laptop), 200);
    const ev = await evictions(t, userId);
    assert.deepEqual(ev.map((e) => [e.sessionId, e.detail]), [[first.id, { mode: 'token', policy: 'single' }]]);
  });
});

describe('policy: single-session mode for cookies only', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ config: { session: { single: true } } });
  });
  after(() => t.close());

  test('token logins keep the default limit while cookie logins are single', async () => {
    const email = uniqueEmail('single-mixed');
    await register(t, email);
    const tokens: TokenSession[] = [];
    for (let i = 0; i < 4; i++) tokens.push(await tokenLogin(t, email));
    for (const x of tokens) assert.equal(await bearerStatus(t, x), 200);
    const a = await cookieLogin(t, email);
    const b = await cookieLogin(t, email);
    assert.equal(await cookieStatus(a), 401);
    assert.equal(await cookieStatus(b), 200);
  });
});

describe('policy: default limit of 10', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(() => t.close());

  test('the eleventh cookie login evicts the first', async () => {
    const email = uniqueEmail('default');
    await register(t, email);
    const s: CookieSession[] = [];
    for (let i = 0; i < 11; i++) {
      s.push(await cookieLogin(t, email));
      t.clock.advance(10);
    }
    assert.equal(await cookieStatus(s[0]!), 401);
    assert.equal(await cookieStatus(s[1]!), 200);
    assert.equal((await listIds(t, s[10]!)).length, 10);
  });
});
