/**
 * The same application after the move: Gatehouse owns accounts and sessions, and migration mode turns
 * every live express-session cookie into a Gatehouse session on its first request, so nobody who was
 * signed in on the old app is signed out.
 *
 * Run it on the old app's port:
 *   REDIS_URL=redis://127.0.0.1:6379 node --import tsx examples/express-session-migration/new-app.ts   (PORT, default 3002)
 * In your own app, import from 'gatehouse/express' and 'gatehouse/stores/legacy' instead of the source paths.
 */
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import express from 'express';
import { Redis } from 'ioredis';
import { createGatehouse, type Gatehouse, type GatehouseOptions } from '../../src/http/express.js';
import { ConnectRedisSource } from '../../src/stores/legacy/index.js';
import { ACCOUNTS } from './old-app.js';

export interface NewOptions {
  redisUrl?: string;
  prefix?: string;
  /** express-session's secret(s): every one that may have signed a live cookie. */
  secrets?: string[];
  /** Extra Gatehouse options (stores, config, clock…). */
  gatehouse?: GatehouseOptions;
}

export async function startNew(port = 3002, opts: NewOptions = {}) {
  const source = new ConnectRedisSource(new Redis(opts.redisUrl ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'), { prefix: opts.prefix ?? 'sess:' });
  // Declared before it exists: mapUser runs on requests, long after createGatehouse resolved.
  let gh: Gatehouse;
  gh = await createGatehouse({
    ...opts.gatehouse,
    config: { databaseUrl: 'memory:', ...(opts.gatehouse?.config ?? {}) },
    legacy: {
      source,
      secrets: opts.secrets ?? [process.env.SESSION_SECRET ?? 'keyboard cat, change me'],
      // The old app kept `req.session.user.email`; find the Gatehouse user with that address.
      mapUser: async (old) => {
        const email = (old.user as { email?: unknown } | undefined)?.email;
        if (typeof email !== 'string') return null;
        const user = await gh.core.admin.findUserByEmail(email);
        return user?.id ?? null;
      },
    },
  });
  // The accounts were imported before the switch (a real app runs its import once; see the guide).
  for (const [email, password] of Object.entries(ACCOUNTS)) {
    if (!(await gh.core.admin.findUserByEmail(email))) await gh.core.admin.createUser(email, password, { ip: null, userAgent: 'import' });
  }

  const app = express();
  app.use(gh.wellKnown);
  app.use('/auth', gh.router);
  // `authenticate` migrates an old cookie on the spot, on any route it guards.
  app.get('/', gh.authenticate, (req, res) => {
    res.type('html').send(req.auth ? `<p>Signed in as ${req.auth.user.email} (Gatehouse)</p>` : '<p>Signed out: sign in through POST /auth/login</p>');
  });
  app.get('/profile', gh.requireAuth(), (req, res) => {
    res.json({ email: req.auth!.user.email, via: 'gatehouse' });
  });
  app.use(gh.errorHandler);
  const server = app.listen(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    gatehouse: gh,
    /** Old sessions not yet migrated. */
    remaining: () => source.remaining(),
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await gh.close();
      await source.close();
    },
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const app = await startNew(Number(process.env.PORT ?? 3002));
  console.log(`new app (Gatehouse, migrating express-session cookies) on ${app.url}; old sessions left: ${await app.remaining()}`);
  process.once('SIGINT', () => void app.close().then(() => process.exit(0)));
  process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
}
