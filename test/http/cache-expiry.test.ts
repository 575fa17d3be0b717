/**
 * The session cache and sliding expiry: a request answered from the cache writes nothing, the first
 * request that finds a renewal due writes it (even while the cache entry is still fresh), and a session
 * left idle expires at its idle deadline, not at some later cache expiry.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client, GOOD_PASSWORD, startTestServer, uniqueEmail, type TestServer } from '../support/server.js';

const RENEW_MS = 10_000;
const IDLE_MS = 60_000;

describe('cached sessions and sliding expiry', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ config: { session: { renewInterval: RENEW_MS, idleTtl: IDLE_MS } } });
  });
  after(() => t.close());

  async function signIn(): Promise<{ client: Client; id: string }> {
    const email = uniqueEmail('expiry');
    const client = new Client(t.url);
    assert.equal((await client.req('POST', '/auth/register', { json: { email, password: GOOD_PASSWORD } })).status, 201);
    assert.equal((await client.req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD } })).status, 200);
    const value = [...client.jar.values()][0]!;
    return { client, id: value.split('.')[0]! };
  }
  const stored = (id: string) => t.stores.sessions.getSession(id, t.clock.now());

  test('cached requests write nothing; the first one with a renewal due writes it while the entry is still cached', async () => {
    const { client, id } = await signIn();
    const t0 = (await stored(id))!.lastSeenAt;
    assert.equal((await client.req('GET', '/auth/me')).status, 200);
    t.clock.advance(RENEW_MS - 1);
    assert.equal((await client.req('GET', '/auth/me')).status, 200);
    assert.equal((await stored(id))!.lastSeenAt, t0, 'inside the renewal interval nothing is written');
    t.clock.advance(2);
    assert.equal((await client.req('GET', '/auth/me')).status, 200);
    const renewed = (await stored(id))!;
    assert.equal(renewed.lastSeenAt, t0 + RENEW_MS + 1, 'the renewal was written');
    assert.equal(renewed.idleExpiresAt, t0 + RENEW_MS + 1 + IDLE_MS);
  });

  test('a session left idle fails at its idle deadline, though it was cached', async () => {
    const { client, id } = await signIn();
    assert.equal((await client.req('GET', '/auth/me')).status, 200);
    const deadline = (await stored(id))!.idleExpiresAt;
    t.clock.set(deadline - 1);
    // Not a request (it would renew): the store still holds the session a millisecond before.
    assert.ok(await stored(id), 'live until its deadline');
    t.clock.set(deadline);
    assert.equal((await client.req('GET', '/auth/me')).status, 401);
  });
});
