/** The shared HTTP suite through the Fastify plugin (`gatehouse/fastify`). */
import Fastify from 'fastify';
import { createGatehouseFastify } from '../../src/http/fastify.js';
import { runAdapterSuite } from './shared-suite.js';

runAdapterSuite('Fastify', async (opts) => {
  const gh = await createGatehouseFastify(opts);
  const app = Fastify();
  await app.register(gh.plugin);
  app.get('/api/profile', { preHandler: gh.requireAuth }, async (req) => {
    const a = req.raw.auth!;
    return { id: a.user.id, email: a.user.email, mode: a.mode, session_id: a.sessionId };
  });
  app.get('/api/transfer', { preHandler: gh.requireAuth({ acr: 'aal2', maxAge: '10m' }) }, async (req) => ({ ok: true, acr: req.raw.auth!.session?.acr ?? req.raw.auth!.claims?.acr }));
  app.get('/api/public', async () => ({ ok: true }));
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    url,
    async close() {
      await app.close();
      await gh.close();
    },
  };
});
