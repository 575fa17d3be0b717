/** The shared HTTP suite through the plain node:http handler (`gatehouse/node`). */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createGatehouseNode } from '../../src/http/node.js';
import { runAdapterSuite } from './shared-suite.js';

runAdapterSuite('node:http', async (opts) => {
  const gh = await createGatehouseNode(opts);
  const json = (res: import('node:http').ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };
  const server = createServer(async (req, res) => {
    if (gh.handle(req, res)) return;
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/api/profile') {
      const a = await gh.authenticate(req);
      if (!a) return gh.reject(req, res);
      return json(res, 200, { id: a.user.id, email: a.user.email, mode: a.mode, session_id: a.sessionId });
    }
    if (req.method === 'GET' && path === '/api/transfer') {
      const a = await gh.requireAuth(req, res, { acr: 'aal2', maxAge: '10m' });
      if (!a) return;
      return json(res, 200, { ok: true, acr: a.session?.acr ?? a.claims?.acr });
    }
    if (req.method === 'GET' && path === '/api/public') return json(res, 200, { ok: true });
    // Unsafe application routes (the CSRF rule on cookie requests).
    if ((req.method === 'POST' && (path === '/api/notes' || path === '/api/webhook')) || (req.method === 'DELETE' && path === '/api/notes')) {
      const a = await gh.authenticate(req, res, path === '/api/webhook' ? { csrf: false } : {});
      if (!a) return gh.reject(req, res);
      return json(res, 200, { saved: true, id: a.user.id });
    }
    if (req.method === 'POST' && path === '/api/greeting') return json(res, 200, { signed_in: (await gh.authenticate(req, res)) !== undefined });
    json(res, 404, { error: 'not found' });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      await new Promise((r) => server.close(r));
      await gh.close();
    },
  };
});
