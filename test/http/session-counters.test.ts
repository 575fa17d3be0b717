/**
 * The standalone server's per-session counters (GET /auth/session/counters): a signed-in user sees
 * how many requests their own session made and how many store reads and writes they cost, which is
 * how the explorer shows that the steady state does no store round-trip per request.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SessionCounters } from '../../src/server/session-counters.js';
import { Client, GOOD_PASSWORD, startTestServer, uniqueEmail, type TestServer } from '../support/server.js';

describe('per-session store counters', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(() => t.close());

  async function user(): Promise<string> {
    const email = uniqueEmail('count');
    assert.equal((await new Client(t.url).req('POST', '/auth/register', { json: { email, password: GOOD_PASSWORD } })).status, 201);
    return email;
  }

  test('a cookie session: requests are counted, store reads do not grow with them, a renewal is one write', async () => {
    const email = await user();
    const c = new Client(t.url);
    const login = await c.req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD } });
    for (let i = 0; i < 5; i++) assert.equal((await c.req('GET', '/auth/me')).status, 200);
    const first = await c.req('GET', '/auth/session/counters');
    assert.equal(first.status, 200);
    assert.equal(first.headers.get('cache-control'), 'no-store');
    assert.equal(first.body.session_id, login.body.session.id);
    assert.equal(first.body.requests, 5, 'the counters request itself is counted after it is answered');
    assert.ok(first.body.store_reads <= 1, `at most the first read into the cache (${first.body.store_reads})`);
    for (let i = 0; i < 20; i++) await c.req('GET', '/auth/me');
    const later = (await c.req('GET', '/auth/session/counters')).body;
    assert.equal(later.requests, 5 + 1 + 20);
    assert.equal(later.store_reads, first.body.store_reads, '20 more requests, no more store reads');
    assert.equal(later.store_writes, first.body.store_writes);

    t.clock.advance(61_000); // past the renewal interval: the next request slides the idle expiry once
    await c.req('GET', '/auth/me');
    await c.req('GET', '/auth/me');
    const renewed = (await c.req('GET', '/auth/session/counters')).body;
    assert.equal(renewed.store_writes, later.store_writes + 1);
  });

  test('a token session: bearer requests cost no store read in the steady state; a refresh reads and writes', async () => {
    const email = await user();
    const grant = (await new Client(t.url).req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD, mode: 'token' } })).body;
    const api = new Client(t.url);
    for (let i = 0; i < 10; i++) assert.equal((await api.req('GET', '/auth/me', { bearer: grant.access_token })).status, 200);
    const before = (await api.req('GET', '/auth/session/counters', { bearer: grant.access_token })).body;
    assert.equal(before.session_id, grant.session.id);
    assert.equal(before.requests, 10);
    // A token this instance has not seen is confirmed against its session once; after that, nothing.
    assert.ok(before.store_reads <= 1, `at most one read (${before.store_reads})`);
    for (let i = 0; i < 20; i++) await api.req('GET', '/auth/me', { bearer: grant.access_token });
    const steady = (await api.req('GET', '/auth/session/counters', { bearer: grant.access_token })).body;
    assert.equal(steady.requests, 10 + 1 + 20);
    assert.equal(steady.store_reads, before.store_reads, '20 more bearer requests, no more store reads');
    const next = await api.req('POST', '/auth/refresh', { json: { refresh_token: grant.refresh_token } });
    assert.equal(next.status, 200);
    const after = (await api.req('GET', '/auth/session/counters', { bearer: next.body.access_token })).body;
    assert.ok(after.store_reads > steady.store_reads && after.store_writes > steady.store_writes, JSON.stringify(after));
  });

  test('each user sees only their own session; without a session the answer is 401', async () => {
    const a = new Client(t.url);
    const b = new Client(t.url);
    const la = await a.req('POST', '/auth/login', { json: { email: await user(), password: GOOD_PASSWORD } });
    const lb = await b.req('POST', '/auth/login', { json: { email: await user(), password: GOOD_PASSWORD } });
    assert.equal((await a.req('GET', '/auth/session/counters')).body.session_id, la.body.session.id);
    assert.equal((await b.req('GET', '/auth/session/counters')).body.session_id, lb.body.session.id);
    const none = await new Client(t.url).req('GET', '/auth/session/counters');
    assert.equal(none.status, 401);
    assert.equal(none.body.code, 'unauthenticated');
  });

  test('forged and stale credentials take no place in the map', async () => {
    const before = t.srv.counters.size;
    for (let i = 0; i < 50; i++) {
      const forged = `${'A'.repeat(21)}${String.fromCharCode(65 + (i % 26))}${i}.${'B'.repeat(43)}`;
      assert.equal((await new Client(t.url).req('GET', '/auth/me', { headers: { cookie: `__Host-gatehouse=${forged}` } })).status, 401);
    }
    assert.equal(t.srv.counters.size, before);
  });

  test('the map is bounded: beyond its size the oldest session is dropped', () => {
    const c = new SessionCounters(() => 0, 3);
    for (const id of ['a', 'b', 'c', 'd']) c.request(id);
    assert.equal(c.size, 3);
    assert.equal(c.get('a'), null);
    assert.equal(c.get('d')?.requests, 1);
  });
});
