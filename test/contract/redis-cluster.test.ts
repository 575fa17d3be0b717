import { after, before, describe } from 'node:test';
import { spawnSync } from 'node:child_process';
import { openRedisStores } from '../../src/stores/redis/index.js';
import { startRedisCluster, type RedisCluster } from '../support/redis-cluster.js';
import { testPrefix } from '../support/services.js';
import { runStoreContract } from './suite.js';

const haveBinaries = spawnSync('redis-server', ['--version']).status === 0 && spawnSync('redis-cli', ['--version']).status === 0;

if (!haveBinaries && process.env.CI !== 'true') {
  describe('store contract: redis cluster', { skip: 'redis-server and redis-cli are not installed (apt-get install redis-server)' }, () => {});
} else {
  if (!haveBinaries) throw new Error('redis-server and redis-cli are required under CI=true: apt-get install redis-server');
  // One cluster of our own for the whole file; every test gets a key prefix of its own.
  let cluster: RedisCluster | undefined;
  const ready = startRedisCluster().then((c) => (cluster = c));
  before(async () => {
    await ready;
  });
  after(async () => {
    await cluster?.stop();
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
