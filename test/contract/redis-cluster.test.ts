/**
 * The store contract on a Redis Cluster of our own: three masters with a replica each, every node
 * requiring an ACL user. The URL carries the user and password (`redis+cluster://user:pass@…`), so
 * every test here also proves they reach every node; with replicas, `auto` turns the replica
 * acknowledgement of revocations on, and the contract runs through it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { spawnSync } from 'node:child_process';
import { StoreUnavailableError } from '../../src/errors.js';
import { openRedisStores } from '../../src/stores/redis/index.js';
import { startRedisCluster, type RedisCluster } from '../support/redis-cluster.js';
import { testPrefix } from '../support/services.js';
import { makeSession } from './fixtures.js';
import { runStoreContract } from './suite.js';

const haveBinaries = spawnSync('redis-server', ['--version']).status === 0 && spawnSync('redis-cli', ['--version']).status === 0;

/** A password with characters a URL must escape: `@`, `:`, `/`, `+` and a space. */
const AUTH = { user: 'gatehouse', password: 'cl@ss:ter/pass+word 1' };

if (!haveBinaries && process.env.CI !== 'true') {
  describe('store contract: redis cluster', { skip: 'redis-server and redis-cli are not installed (apt-get install redis-server)' }, () => {});
} else {
  if (!haveBinaries) throw new Error('redis-server and redis-cli are required under CI=true: apt-get install redis-server');
  // One cluster of our own for the whole file; every test gets a key prefix of its own.
  let cluster: RedisCluster | undefined;
  const ready = startRedisCluster({ replicas: 1, auth: AUTH, nodeTimeoutMs: 2000 }).then((c) => (cluster = c));
  before(async () => {
    await ready;
  });
  after(async () => {
    await cluster?.stop();
  });

  describe('redis cluster: credentials', () => {
    it('the URL names an ACL user and a percent-encoded password, and every node is reached with them', async () => {
      const c = await ready;
      assert.match(c.url, /^redis\+cluster:\/\/gatehouse:cl%40ss%3Ater%2Fpass%2Bword%201@/);
      const stores = await openRedisStores({ url: c.url, prefix: testPrefix(), commandTimeoutMs: 3000 });
      try {
        // One session per master: ids name their user, and users hash to every slot range.
        for (let k = 0; k < 30; k++) {
          const s = makeSession();
          await stores.sessions.createSession(s, { maxPerUser: 5 });
          assert.equal((await stores.sessions.getSession(s.id, Date.now()))?.id, s.id);
        }
        const clients = (await c.cli(c.ports[0]!, 'CLIENT', 'LIST')).split('\n').filter((l) => / user=gatehouse /.test(l));
        assert.ok(clients.length >= 1, 'the node sees connections of the ACL user');
        assert.equal(stores.replicaAcks, 1, 'auto: the cluster has replicas, so revocations wait for one');
      } finally {
        await stores.close();
      }
    });

    it('without the credentials the cluster is refused, with a store error rather than a hang', async () => {
      const c = await ready;
      const bare = c.url.replace(/\/\/[^@]*@/, '//');
      const t0 = Date.now();
      await assert.rejects(openRedisStores({ url: bare, prefix: testPrefix(), commandTimeoutMs: 1000 }), (e: unknown) => {
        assert.ok(e instanceof StoreUnavailableError, `got ${(e as Error).name}: ${(e as Error).message}`);
        return true;
      });
      assert.ok(Date.now() - t0 < 30_000, 'refused within 30 s');
    });
  });

  runStoreContract('redis cluster', async () => {
    const c = await ready;
    const stores = await openRedisStores({ url: c.url, prefix: testPrefix(), commandTimeoutMs: 3000 });
    return {
      stores,
      // The cluster (and every key in it) goes away with the file.
      cleanup: () => stores.close(),
    };
  });
}
