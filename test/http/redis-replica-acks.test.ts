/**
 * Revocations on a Redis master with a replica are answered only once the replica has them, so no
 * failover can undo an acknowledged logout. Through a real server on a random port: a master and its
 * replica of our own (started by pid, an ACL user required), `GATEHOUSE_REDIS_WAIT_REPLICAS` left at
 * `auto`, the replica stopped with SIGSTOP to stand for one that cannot acknowledge.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import type { Stores } from '../../src/ports.js';
import { openStores } from '../../src/stores/open.js';
import { bearerStatus, cookieLogin, cookieStatus, refreshStatus, register, tokenLogin } from '../support/flows.js';
import { startSentinelGroup, type SentinelGroup } from '../support/redis-sentinel.js';
import { Client, GOOD_PASSWORD, startTestServer, uniqueEmail, type TestServer } from '../support/server.js';
import { REDIS_URL, requireRedis, skipReason, testPrefix } from '../support/services.js';

// The shared Redis only tells us Redis is installed and expected here; the test starts its own pair.
const shared = await requireRedis();
const haveBinaries = spawnSync('redis-server', ['--version']).status === 0 && spawnSync('redis-cli', ['--version']).status === 0;
if (shared !== null && !haveBinaries) throw new Error('redis-server and redis-cli are required: apt-get install redis-server');

const WAIT_MS = 200;

describe('revocations wait for a replica', { skip: shared === null ? skipReason('Redis', REDIS_URL) : false }, () => {
  let group: SentinelGroup;
  let stores: Stores;
  let t: TestServer;
  let prefix: string;
  before(async () => {
    group = await startSentinelGroup({ sentinels: 0, auth: { user: 'gatehouse', password: 'replica pw' } });
    prefix = testPrefix();
    stores = await openStores({ databaseUrl: 'memory:', redisUrl: group.directUrl, redisPrefix: prefix, redisWaitTimeoutMs: WAIT_MS, timeoutMs: 2000 });
    // Refresh grace 0: presenting a spent refresh token is reuse at once.
    t = await startTestServer({ stores, config: { token: { refreshGrace: 0 } } });
  });
  after(async () => {
    await t?.close();
    await stores?.close();
    await group?.stop();
  });

  const replica = () => group.dataPorts[1];
  const expect503 = (r: { status: number; headers: Headers; body: any }, what: string) => {
    assert.equal(r.status, 503, `${what}: ${JSON.stringify(r.body)}`);
    assert.equal(r.headers.get('retry-after'), '1', `${what}: Retry-After`);
    assert.match(r.headers.get('content-type') ?? '', /application\/problem\+json/);
    assert.equal(r.body.code, 'store_unavailable');
  };

  test('a logout is answered 204 once the replica has it: the replica no longer holds the session when the answer arrives', async () => {
    const email = uniqueEmail('ack');
    const uid = await register(t, email);
    const s = await cookieLogin(t, email);
    const r = await s.client.req('POST', '/auth/logout');
    assert.equal(r.status, 204);
    const field = s.id.slice(0, 22);
    assert.equal((await group.cli(replica(), 'HEXISTS', `${prefix}u:{${uid}}`, field)).trim(), '0', 'the replica has the deletion');
    assert.equal(await cookieStatus(s), 401);
  });

  test('while the replica cannot acknowledge, every kind of revocation answers 503 with Retry-After, and sign-ins and reads go on', async () => {
    // One user per kind of revocation, so that each one's outcome depends on nothing else.
    const users = await Promise.all(['logout', 'revoke', 'reuse', 'all', 'password'].map(async (k) => {
      const email = uniqueEmail(`stall-${k}`);
      await register(t, email);
      return email;
    }));
    const [uLogout, uRevoke, uReuse, uAll, uPassword] = users as [string, string, string, string, string];
    const cookie = await cookieLogin(t, uLogout);
    const token = await tokenLogin(t, uLogout);
    const actor = await tokenLogin(t, uRevoke);
    const victim = await tokenLogin(t, uRevoke);
    const reused = await tokenLogin(t, uReuse);
    assert.equal(await refreshStatus(t, reused), 200, 'the first use of the refresh token rotates it');
    t.clock.advance(1000); // past the grace window (0): presenting it again is reuse
    const allActor = await tokenLogin(t, uAll);
    const allOther = await cookieLogin(t, uAll);
    const pwActor = await tokenLogin(t, uPassword);
    const pwOther = await tokenLogin(t, uPassword);
    group.pause(replica());
    try {
      expect503(await cookie.client.req('POST', '/auth/logout'), 'cookie logout');
      expect503(await new Client(t.url).req('POST', '/auth/logout', { bearer: token.access }), 'bearer logout');
      expect503(await new Client(t.url).req('DELETE', `/auth/sessions/${victim.id}`, { bearer: actor.access }), 'session revoke');
      expect503(await new Client(t.url).req('POST', '/auth/refresh', { json: { refresh_token: reused.refresh } }), 'refresh-token reuse');
      expect503(await new Client(t.url).req('POST', '/auth/logout-all', { bearer: allActor.access }), 'logout-all');
      const pw = await new Client(t.url).req('POST', '/auth/password', { bearer: pwActor.access, json: { current_password: GOOD_PASSWORD, new_password: 'a whole new passphrase' } });
      expect503(pw, 'password change');
      // Nothing else waits for the replica: a new login and an authenticated read are answered.
      const other = uniqueEmail('stall-other');
      await register(t, other);
      const fresh = await tokenLogin(t, other);
      assert.equal(await bearerStatus(t, fresh), 200);
    } finally {
      group.resume(replica());
    }
    // Retried once the replica is back, each revocation is answered, or its credential is already
    // unusable (the first attempt deleted the session; only its confirmation failed).
    for (const [what, r] of [
      ['cookie logout', await cookie.client.req('POST', '/auth/logout')],
      ['bearer logout', await new Client(t.url).req('POST', '/auth/logout', { bearer: token.access })],
      ['session revoke', await new Client(t.url).req('DELETE', `/auth/sessions/${victim.id}`, { bearer: actor.access })],
      ['logout-all', await new Client(t.url).req('POST', '/auth/logout-all', { bearer: allActor.access })],
    ] as const) {
      assert.ok([204, 401, 404].includes(r.status), `${what} retried: ${r.status} ${r.text}`);
    }
    assert.equal(await cookieStatus(cookie), 401);
    assert.equal(await bearerStatus(t, token), 401);
    assert.equal(await bearerStatus(t, victim), 401);
    assert.equal(await refreshStatus(t, victim), 400);
    assert.equal(await refreshStatus(t, reused), 400);
    assert.equal(await cookieStatus(allOther), 401);
    assert.equal(await refreshStatus(t, pwOther), 400, 'the other session of the password change is gone');
  });

  test('a revocation answered 503 is in effect on every instance at once all the same, and the next one is confirmed once the replica is back', async () => {
    // A second instance on the same Redis: it hears of revocations only through the feed.
    const t2 = await startTestServer({ stores, config: { token: { refreshGrace: 0 } } });
    try {
      const email = uniqueEmail('retry');
      await register(t, email);
      const phone = await tokenLogin(t, email);
      const laptop = await tokenLogin(t, email);
      assert.equal(await bearerStatus(t2, phone), 200);
      group.pause(replica());
      try {
        expect503(await new Client(t.url).req('POST', '/auth/logout', { bearer: phone.access }), 'logout');
        // Not confirmed, so not acknowledged; but the session is gone from the master and announced.
        assert.equal(await bearerStatus(t2, phone), 401, 'the other instance refuses the token at once');
        assert.equal(await bearerStatus(t, phone), 401);
        assert.equal(await refreshStatus(t2, phone), 400);
        expect503(await new Client(t.url).req('POST', '/auth/logout', { bearer: laptop.access }), 'another logout while stalled');
      } finally {
        group.resume(replica());
      }
      const third = await tokenLogin(t2, email);
      const r = await new Client(t2.url).req('POST', '/auth/logout', { bearer: third.access });
      assert.equal(r.status, 204, 'answered once the replica acknowledges again');
      for (const s of [phone, laptop, third]) {
        assert.equal(await bearerStatus(t, s), 401);
        assert.equal(await bearerStatus(t2, s), 401);
      }
    } finally {
      await t2.close();
    }
  });
});
