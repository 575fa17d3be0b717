// Gatehouse cookie session with sessions in Redis (127.0.0.1:6379, a key prefix of its own, deleted on
// exit) and users in SQLite (a temporary file), through Express.
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { benchConfig, serveExpress, tempDir } from './_gatehouse.js';
import { gatehousePrefix, redisUrl } from './_redis.js';

const tmp = tempDir();
const prefix = gatehousePrefix(process.env.BENCH_RUN_ID ?? `local-${process.pid}`);
await serveExpress(
  { config: benchConfig({ databaseUrl: `sqlite:${join(tmp.dir, 'gatehouse.db')}`, dataDir: tmp.dir, redisUrl: redisUrl(), redisPrefix: prefix }) },
  async () => {
    tmp.remove();
    const redis = new Redis(redisUrl(), { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
    try {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length > 0) await redis.unlink(...keys);
      } while (cursor !== '0');
    } finally {
      redis.disconnect();
    }
  },
);
