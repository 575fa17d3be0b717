/**
 * The store contract through Redis Sentinel: a master, its replica and three Sentinels of our own,
 * the servers requiring an ACL user and the Sentinels a password of their own. The stores find the
 * master by asking the Sentinels (`redis+sentinel://user:pass@s1,s2,s3/mymaster?sentinel_password=…`),
 * and with a replica behind Sentinel every revocation waits for its acknowledgement, so the contract
 * runs through that path too.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { StoreUnavailableError } from '../../src/errors.js';
import { openRedisStores } from '../../src/stores/redis/index.js';
import { startSentinelGroup, type SentinelGroup } from '../support/redis-sentinel.js';
import { testPrefix } from '../support/services.js';
import { makeSession } from './fixtures.js';
import { runStoreContract } from './suite.js';

const haveBinaries = spawnSync('redis-server', ['--version']).status === 0 && spawnSync('redis-cli', ['--version']).status === 0;

if (!haveBinaries && process.env.CI !== 'true') {
  describe('store contract: redis sentinel', { skip: 'redis-server and redis-cli are not installed (apt-get install redis-server)' }, () => {});
} else {
  if (!haveBinaries) throw new Error('redis-server and redis-cli are required under CI=true: apt-get install redis-server');
  let group: SentinelGroup | undefined;
  const ready = startSentinelGroup({ auth: { user: 'gatehouse', password: 'sentinel@data pw' }, sentinelPassword: 'watch+er pw' }).then((g) => (group = g));
  before(async () => {
    await ready;
  });
  after(async () => {
    await group?.stop();
  });

  describe('redis sentinel: finding the master, credentials and replica acknowledgement', () => {
    it('the stores reach the master the Sentinels name, as the URL\'s user, and wait for the replica by default', async () => {
      const g = await ready;
      const stores = await openRedisStores({ url: g.url, prefix: testPrefix(), commandTimeoutMs: 2000 });
      try {
        assert.equal(stores.replicaAcks, 1, 'behind Sentinel there is a replica: auto waits for one');
        const s = makeSession();
        await stores.sessions.createSession(s, { maxPerUser: 5 });
        const master = await g.master();
        assert.equal(master, g.dataPorts[0]);
        const clients = (await g.cli(master, 'CLIENT', 'LIST')).split('\n').filter((l) => / user=gatehouse /.test(l) && !/ flags=S /.test(l));
        assert.ok(clients.length >= 2, 'the master sees the stores\' connections as the ACL user');
        assert.equal((await stores.sessions.getSession(s.id, Date.now()))?.id, s.id);
      } finally {
        await stores.close();
      }
    });

    it('a wait as long as the command timeout is refused when the replica count is explicit, and halved under auto', async () => {
      const g = await ready;
      await assert.rejects(openRedisStores({ url: g.url, prefix: testPrefix(), commandTimeoutMs: 200, replicaAcks: 1, replicaAckTimeoutMs: 200 }), /must be shorter than the command timeout/);
      const stores = await openRedisStores({ url: g.url, prefix: testPrefix(), commandTimeoutMs: 200, replicaAckTimeoutMs: 250 });
      try {
        assert.equal(stores.replicaAcks, 1);
        const s = makeSession();
        await stores.sessions.createSession(s, { maxPerUser: 5 });
        assert.ok(await stores.sessions.deleteSession(s.id), 'the revocation is confirmed within the shortened wait');
      } finally {
        await stores.close();
      }
    });

    it('without the Sentinels\' password the master cannot be found: a store error, not a hang', async () => {
      const g = await ready;
      const t0 = Date.now();
      await assert.rejects(
        openRedisStores({ url: g.url.replace(/\?.*$/, ''), prefix: testPrefix(), commandTimeoutMs: 1000 }),
        (e: unknown) => e instanceof StoreUnavailableError,
      );
      assert.ok(Date.now() - t0 < 30_000);
    });

    it('a revocation is not confirmed while the replica cannot acknowledge it, and is once it can', async () => {
      const g = await ready;
      const stores = await openRedisStores({ url: g.url, prefix: testPrefix(), commandTimeoutMs: 2000, replicaAckTimeoutMs: 200 });
      const replica = g.dataPorts[1];
      try {
        const s = makeSession();
        const other = makeSession({ userId: s.userId });
        await stores.sessions.createSession(s, { maxPerUser: 5 });
        await stores.sessions.createSession(other, { maxPerUser: 5 });
        g.pause(replica);
        try {
          await assert.rejects(stores.sessions.deleteSession(s.id), (e: unknown) => e instanceof StoreUnavailableError && e.retryAfter === 1);
          // Retried with nothing left to delete, it still waits: the first attempt's delete is unconfirmed.
          await assert.rejects(stores.sessions.deleteSession(s.id), StoreUnavailableError);
          await assert.rejects(stores.sessions.deleteUserSessions(s.userId), StoreUnavailableError);
          await assert.rejects(stores.feed.publish({ type: 'sessions.revoked', ids: [s.id], at: Date.now() }), StoreUnavailableError);
          // Logins are not confirmed: they go through while the replica is away.
          await stores.sessions.createSession(makeSession(), { maxPerUser: 5 });
        } finally {
          g.resume(replica);
        }
        // The retry of the revocation (nothing left to delete) is confirmed once the replica is back.
        assert.equal(await stores.sessions.deleteSession(s.id), null);
        assert.deepEqual(await stores.sessions.deleteUserSessions(s.userId), []);
        await stores.feed.publish({ type: 'sessions.revoked', ids: [s.id], at: Date.now() });
      } finally {
        await stores.close();
      }
    });
  });

  describe('redis sentinel: revocations answered 503 are re-applied until a replica has them', () => {
    it('a session that comes back after an unconfirmed delete is deleted again, and an unconfirmed event is logged again, once the replica answers', async () => {
      const g = await ready;
      const stores = await openRedisStores({ url: g.url, prefix: testPrefix(), commandTimeoutMs: 2000, replicaAckTimeoutMs: 200 });
      const replica = g.dataPorts[1];
      try {
        const s = makeSession();
        await stores.sessions.createSession(s, { maxPerUser: 5 });
        const since = Date.now() - 1000;
        const other = makeSession();
        g.pause(replica);
        try {
          await assert.rejects(stores.sessions.deleteSession(s.id), StoreUnavailableError);
          await assert.rejects(stores.feed.publish({ type: 'sessions.revoked', ids: [other.id], at: Date.now() }), StoreUnavailableError);
          // As if a failover had lost the delete: the session is back on the master (the repair
          // pass, once a second, deletes it again right away but cannot confirm it yet).
          await stores.sessions.createSession(s, { maxPerUser: 5 });
          assert.ok(stores.pendingRepairs() >= 2, 'the delete and the event are pending');
        } finally {
          g.resume(replica);
        }
        const end = Date.now() + 15_000;
        while (stores.pendingRepairs() > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
        assert.equal(stores.pendingRepairs(), 0, 'every repair went through once the replica answered');
        assert.equal(await stores.sessions.getSession(s.id, Date.now()), null, 'the session was deleted again');
        const logged = (await stores.feed.replay(since)).flatMap((e) => (e.type === 'sessions.revoked' ? e.ids : []));
        assert.ok(logged.includes(s.id), 'the revocation of the session is in the log');
        assert.ok(logged.includes(other.id), 'the event whose publication was not confirmed is in the log');
      } finally {
        await stores.close();
      }
    });
  });

  runStoreContract('redis sentinel', async () => {
    const g = await ready;
    const stores = await openRedisStores({ url: g.url, prefix: testPrefix(), commandTimeoutMs: 2000 });
    return {
      stores,
      // The servers (and every key in them) go away with the file.
      cleanup: () => stores.close(),
    };
  });
}
