/** The shared HTTP suite through the Express adapter (`gatehouse/express`). */
import type { AddressInfo } from 'node:net';
import express from 'express';
import { createGatehouse } from '../../src/http/express.js';
import { runAdapterSuite } from './shared-suite.js';

runAdapterSuite('Express', async (opts) => {
  const gh = await createGatehouse(opts);
  const app = express();
  app.use(gh.wellKnown);
  app.use('/auth', gh.router);
  // requireAuth() alone: it authenticates by itself (token-middleware tests cover authenticate + requireAuth()).
  app.get('/api/profile', gh.requireAuth(), (req, res) => {
    const a = req.auth!;
    res.json({ id: a.user.id, email: a.user.email, mode: a.mode, session_id: a.sessionId });
  });
  app.get('/api/transfer', gh.requireAuth({ acr: 'aal2', maxAge: '10m' }), (req, res) => {
    res.json({ ok: true, acr: req.auth!.session?.acr ?? req.auth!.claims?.acr });
  });
  app.get('/api/public', (_req, res) => {
    res.json({ ok: true });
  });
  // Unsafe application routes (the CSRF rule on cookie requests), taking form bodies like any app.
  app.use('/api', express.urlencoded({ extended: false }));
  app.post('/api/notes', gh.requireAuth(), (req, res) => {
    res.json({ saved: true, id: req.auth!.user.id });
  });
  app.delete('/api/notes', gh.requireAuth(), (req, res) => {
    res.json({ saved: true, id: req.auth!.user.id });
  });
  app.post('/api/webhook', gh.requireAuth({ csrf: false }), (req, res) => {
    res.json({ saved: true, id: req.auth!.user.id });
  });
  app.post('/api/greeting', gh.authenticate, (req, res) => {
    res.json({ signed_in: req.auth !== undefined });
  });
  app.use(gh.errorHandler);
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      await new Promise((r) => server.close(r));
      await gh.close();
    },
  };
});
