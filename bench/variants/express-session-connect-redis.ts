// Incumbent: express-session with connect-redis 9 on node-redis, Redis at 127.0.0.1:6379.
// Keys live under a prefix unique to this server start and are deleted on exit.
import session from 'express-session';
import { RedisStore } from 'connect-redis';
import { createClient } from 'redis';
import { expressApp } from './_express.js';
import { serve, USER_ID } from './_serve.js';
import { redisUrl, sessionPrefix } from './_redis.js';

declare module 'express-session' {
  interface SessionData {
    userId: string;
  }
}

const prefix = sessionPrefix(process.env.BENCH_RUN_ID ?? `pid${process.pid}`);
const client = createClient({ url: redisUrl() });
client.on('error', (err: unknown) => process.stderr.write(`redis: ${String(err)}\n`));
await client.connect();

const { app, server } = expressApp();
app.use(
  session({
    secret: 'bench-secret-not-for-production-0123456789',
    resave: false,
    saveUninitialized: false,
    store: new RedisStore({ client, prefix }),
  }),
);
app.post('/login', (req, res, next) => {
  req.session.regenerate((err) => {
    if (err) return next(err);
    req.session.userId = USER_ID;
    res.status(204).end();
  });
});
app.get('/me', (req, res) => {
  if (req.session.userId === undefined) {
    res.status(401).json({ error: 'unauthenticated' });
    return;
  }
  res.json({ user: req.session.userId });
});

serve(server, async () => {
  // Delete only our own keys, found by our unique prefix; bounded by SCAN's cursor walk.
  for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) {
    if (keys.length > 0) await client.del(keys);
  }
  await client.quit();
});
