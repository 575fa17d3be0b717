/** The shared HTTP suite through the Hono middleware (`gatehouse/hono`) on @hono/node-server. */
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { createGatehouseHono, type GatehouseHonoEnv } from '../../src/http/hono.js';
import { runAdapterSuite } from './shared-suite.js';

runAdapterSuite('Hono', async (opts) => {
  const gh = await createGatehouseHono(opts);
  const app = new Hono<GatehouseHonoEnv>();
  app.route('/', gh.app);
  app.get('/api/profile', gh.requireAuth, (c) => {
    const a = c.get('auth');
    return c.json({ id: a.user.id, email: a.user.email, mode: a.mode, session_id: a.sessionId });
  });
  app.get('/api/transfer', gh.requireAuth({ acr: 'aal2', maxAge: '10m' }), (c) => c.json({ ok: true, acr: c.get('auth').session?.acr ?? c.get('auth').claims?.acr }));
  app.get('/api/public', (c) => c.json({ ok: true }));
  // Unsafe application routes (the CSRF rule on cookie requests).
  app.on(['POST', 'DELETE'], '/api/notes', gh.requireAuth, (c) => c.json({ saved: true, id: c.get('auth').user.id }));
  app.post('/api/webhook', gh.requireAuthWith({ csrf: false }), (c) => c.json({ saved: true, id: c.get('auth').user.id }));
  app.post('/api/greeting', gh.authenticate, (c) => c.json({ signed_in: c.get('auth') !== undefined }));
  const { server, port } = await new Promise<{ server: ReturnType<typeof serve>; port: number }>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) => resolve({ server: s, port: info.port }));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      await new Promise((r) => server.close(r));
      await gh.close();
    },
  };
});
