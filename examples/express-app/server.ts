/**
 * A small Express application that uses Gatehouse for its accounts and sessions:
 *   - `/auth/*` (register, login, me, logout, refresh) and `/.well-known/*` come from Gatehouse;
 *   - `GET /api/notes` and `POST /api/notes` are the application's own routes, for signed-in users only;
 *   - `GET /api/visits` keeps a visit counter on the session, like `req.session.views` with express-session.
 *
 * Run it:  node --import tsx examples/express-app/server.ts     (PORT, default 3001)
 * In your own app, import from 'gatehouse/express' instead of the source path below.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import express from 'express';
import { createGatehouse, type GatehouseOptions } from '../../src/http/express.js';

/** What this app keeps on a session. Small, server-side only, never put in a token. */
interface VisitData {
  visits: number;
}

export interface RunningExample {
  url: string;
  close(): Promise<void>;
}

export async function start(port = 3001, options: GatehouseOptions = {}): Promise<RunningExample> {
  const gh = await createGatehouse({ config: { databaseUrl: 'sqlite:./data/example.db' }, ...options });
  const app = express();
  app.use(gh.wellKnown);
  app.use('/auth', gh.router);

  // The application's own data. A real app would use its database; the key is the Gatehouse user id.
  const notes = new Map<string, string[]>();

  app.get('/api/notes', gh.requireAuth(), (req, res) => {
    res.json({ user: req.auth!.user.email, notes: notes.get(req.auth!.user.id) ?? [] });
  });

  app.post('/api/notes', gh.requireAuth(), express.json({ limit: '4kb' }), (req, res) => {
    const text = (req.body as { text?: unknown })?.text;
    if (typeof text !== 'string' || text.length === 0 || text.length > 500) {
      res.status(400).json({ error: 'text must be a string of 1 to 500 characters' });
      return;
    }
    const list = notes.get(req.auth!.user.id) ?? [];
    list.push(text);
    notes.set(req.auth!.user.id, list);
    res.status(201).json({ notes: list });
  });

  // Session data: read, change, save. Only changed keys are written, and two parallel requests that
  // change different keys never overwrite each other.
  app.get('/api/visits', gh.requireAuth(), async (req, res, next) => {
    try {
      const data = await req.auth!.data<VisitData>();
      const visits = (data.get('visits') ?? 0) + 1;
      data.set('visits', visits);
      await data.save();
      res.json({ visits });
    } catch (e) {
      next(e);
    }
  });

  app.use(gh.errorHandler);

  const server = createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await gh.close();
    },
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const app = await start(Number(process.env.PORT ?? 3001));
  console.log(`example app on ${app.url}`);
  const stop = () => void app.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
