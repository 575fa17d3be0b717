/**
 * The application before the move: Express with express-session on connect-redis (node-redis), the
 * setup most Express tutorials teach. Signing in puts the user's email on the session.
 *
 * Run it:  REDIS_URL=redis://127.0.0.1:6379 node --import tsx examples/express-session-migration/old-app.ts   (PORT, default 3002)
 */
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { RedisStore } from 'connect-redis';
import express from 'express';
import session from 'express-session';
import { createClient } from 'redis';

/** The old app's accounts. After the move they are Gatehouse users with the same addresses. */
export const ACCOUNTS: Record<string, string> = { 'ada@example.com': 'analytical engine 1843' };

export interface OldOptions {
  redisUrl?: string;
  /** connect-redis key prefix (default `sess:`). */
  prefix?: string;
  secret?: string;
}

export async function startOld(port = 3002, opts: OldOptions = {}) {
  const client = createClient({ url: opts.redisUrl ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' });
  await client.connect();
  const app = express();
  app.use(express.urlencoded({ extended: false }));
  app.use(
    session({
      store: new RedisStore({ client, prefix: opts.prefix ?? 'sess:' }),
      secret: opts.secret ?? process.env.SESSION_SECRET ?? 'keyboard cat, change me',
      resave: false,
      saveUninitialized: false,
      cookie: { maxAge: 7 * 24 * 3_600_000, httpOnly: true, sameSite: 'lax' },
    }),
  );
  app.get('/', (req, res) => {
    const user = (req.session as unknown as { user?: { email: string } }).user;
    res.type('html').send(
      user
        ? `<p>Signed in as ${user.email} (express-session)</p><p><a href="/profile">profile</a></p>`
        : `<form method="post" action="/login"><input name="email" value="ada@example.com"><input name="password" type="password"><button>Sign in</button></form>`,
    );
  });
  app.post('/login', (req, res, next) => {
    const { email, password } = req.body as { email?: string; password?: string };
    if (!email || ACCOUNTS[email] !== password) return res.status(401).send('wrong email or password');
    req.session.regenerate((err) => {
      if (err) return next(err);
      (req.session as unknown as { user: { email: string } }).user = { email };
      res.redirect(303, '/');
    });
  });
  app.get('/profile', (req, res) => {
    const user = (req.session as unknown as { user?: { email: string } }).user;
    if (!user) return res.status(401).json({ error: 'sign in first' });
    res.json({ email: user.email, via: 'express-session' });
  });
  const server = app.listen(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await client.quit();
    },
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const app = await startOld(Number(process.env.PORT ?? 3002));
  console.log(`old app (express-session) on ${app.url}`);
  process.once('SIGINT', () => void app.close().then(() => process.exit(0)));
  process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
}
