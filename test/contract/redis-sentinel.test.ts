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
