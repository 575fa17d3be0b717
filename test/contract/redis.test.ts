import { describe } from 'node:test';
import { openRedisStores } from '../../src/stores/redis/index.js';
import { deletePrefix, REDIS_URL, requireRedis, skipReason, testPrefix } from '../support/services.js';
import { runStoreContract } from './suite.js';

const url = await requireRedis();

if (url === null) {
  describe('store contract: redis', { skip: skipReason('Redis', REDIS_URL) }, () => {});
} else {
  // Every test gets a key prefix of its own; its keys are deleted afterwards.
  runStoreContract('redis', async () => {
    const prefix = testPrefix();
    const stores = await openRedisStores({ url, prefix, commandTimeoutMs: 2000 });
    return {
      stores,
      async cleanup() {
        await deletePrefix(stores.redis as never, prefix);
        await stores.close();
      },
    };
  });
}
