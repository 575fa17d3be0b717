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
  // Unsafe application routes (the CSRF rule on cookie requests), taking form bodies like any app.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => done(null, body));
  app.route({ method: ['POST', 'DELETE'], url: '/api/notes', preHandler: gh.requireAuth, handler: async (req) => ({ saved: true, id: req.raw.auth!.user.id }) });
  app.post('/api/webhook', { preHandler: gh.requireAuthWith({ csrf: false }) }, async (req) => ({ saved: true, id: req.raw.auth!.user.id }));
  app.post('/api/greeting', { preHandler: gh.authenticate }, async (req) => ({ signed_in: req.raw.auth !== undefined }));
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    url,
    async close() {
      await app.close();
      await gh.close();
    },
  };
});
