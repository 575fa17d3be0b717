// Incumbent: express-session with connect-redis 9 on node-redis, Redis at 127.0.0.1:6379.
// Keys live under a prefix unique to this server start and are deleted on exit.
import { RedisStore } from 'connect-redis';
import { createClient } from 'redis';
import { expressSessionApp } from './_express-session.js';
import { serve } from './_serve.js';
import { redisUrl, sessionPrefix } from './_redis.js';

const prefix = sessionPrefix(process.env.BENCH_RUN_ID ?? `pid${process.pid}`);
const client = createClient({ url: redisUrl() });
client.on('error', (err: unknown) => process.stderr.write(`redis: ${String(err)}\n`));
await client.connect();

const server = expressSessionApp(new RedisStore({ client, prefix }));

serve(server, async () => {
  // Delete only our own keys, found by our unique prefix; bounded by SCAN's cursor walk.
  for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) {
    if (keys.length > 0) await client.del(keys);
  }
  await client.quit();
});
