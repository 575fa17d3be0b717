import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import express from 'express';
import { createGatehouse, type Gatehouse } from '../../src/http/express.js';
import { createMemoryStores } from '../../src/stores/memory/index.js';
import type { Stores } from '../../src/ports.js';
import { Client, GOOD_PASSWORD, uniqueEmail } from '../support/server.js';

/**
 * An application that keeps its own data on the Gatehouse session, the way the article's Express
 * examples use `req.session`. `?barrier=ID` holds a request after it loaded the data until a second
 * request with the same ID has loaded too, so both work on the same snapshot: the `resave` race.
 */
let gh: Gatehouse;
let stores: Stores;
let server: Server;
let url: string;

const barriers = new Map<string, { arrived: number; release: () => void; gate: Promise<void> }>();
function barrier(id: string): Promise<void> {
  let b = barriers.get(id);
  if (!b) {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    b = { arrived: 0, release, gate };
    barriers.set(id, b);
  }
  if (++b.arrived === 2) {
    barriers.delete(id);
    b.release();
  }
  return b.gate;
}

before(async () => {
  stores = createMemoryStores();
  gh = await createGatehouse({
    stores,
    config: { databaseUrl: 'memory:', passwordHashing: { memoryCost: 1024, timeCost: 1, parallelism: 1, unsafeAllowWeak: true } },
  });
  const app = express();
  app.use('/auth', gh.router);
  app.use('/data', gh.authenticate, gh.requireAuth(), express.json());
  app.get('/data/:key', async (req, res, next) => {
    try {
      const d = await req.auth!.data<Record<string, unknown>>();
      res.json({ value: d.get(String(req.params.key)) ?? null });
    } catch (e) {
      next(e);
    }
  });
  app.put('/data/:key', async (req, res, next) => {
    try {
      const d = await req.auth!.data<Record<string, unknown>>();
      if (typeof req.query.barrier === 'string') await barrier(req.query.barrier);
      d.set(String(req.params.key), req.body.value);
      await d.save();
      res.status(204).end();
    } catch (e) {
      next(e);
    }
  });
  app.delete('/data/:key', async (req, res, next) => {
    try {
      const d = await req.auth!.data<Record<string, unknown>>();
      d.delete(String(req.params.key));
      await d.save();
      res.status(204).end();
    } catch (e) {
      next(e);
    }
  });
  app.use(gh.errorHandler);
  server = createServer(app);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  await gh.close();
  await stores.close();
});

async function signedIn(): Promise<Client> {
  const email = uniqueEmail('data');
  const c = new Client(url);
  assert.equal((await c.req('POST', '/auth/register', { json: { email, password: GOOD_PASSWORD } })).status, 201);
  assert.equal((await c.req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD } })).status, 200);
  return c;
}

function countPatches(): { count: () => number; restore: () => void } {
  const s = stores.sessions;
  const original = s.patchSessionData;
  let n = 0;
  s.patchSessionData = function (...args: Parameters<typeof original>) {
    n++;
    return original.apply(s, args);
  } as typeof original;
  return { count: () => n, restore: () => void (s.patchSessionData = original) };
}

describe('session data', () => {
  test('get, set and delete work across requests', async () => {
    const c = await signedIn();
    assert.deepEqual((await c.req('GET', '/data/cart')).body, { value: null });
    assert.equal((await c.req('PUT', '/data/cart', { json: { value: { items: [1, 2], note: 'ok' } } })).status, 204);
    assert.deepEqual((await c.req('GET', '/data/cart')).body, { value: { items: [1, 2], note: 'ok' } });
    assert.equal((await c.req('PUT', '/data/cart', { json: { value: { items: [3] } } })).status, 204);
    assert.deepEqual((await c.req('GET', '/data/cart')).body, { value: { items: [3] } });
    assert.equal((await c.req('DELETE', '/data/cart')).status, 204);
    assert.deepEqual((await c.req('GET', '/data/cart')).body, { value: null });
  });

  test('data needs a session and is never visible to another user', async () => {
    const a = await signedIn();
    const b = await signedIn();
    await a.req('PUT', '/data/secret', { json: { value: 'only for a' } });
    assert.deepEqual((await b.req('GET', '/data/secret')).body, { value: null });
    const anon = await new Client(url).req('GET', '/data/secret');
    assert.equal(anon.status, 401);
  });

  test('data over 4 KiB is refused with 413 session_data_too_large and the old data stays', async () => {
    const c = await signedIn();
    assert.equal((await c.req('PUT', '/data/a', { json: { value: 'x'.repeat(3000) } })).status, 204);
    const one = await c.req('PUT', '/data/big', { json: { value: 'y'.repeat(5000) } });
    assert.equal(one.status, 413);
    assert.equal(one.body.code, 'session_data_too_large');
    assert.match(one.headers.get('content-type')!, /^application\/problem\+json/);
    // Each key fits, but together they pass the bound.
    const sum = await c.req('PUT', '/data/b', { json: { value: 'z'.repeat(2000) } });
    assert.equal(sum.status, 413);
    assert.equal(sum.body.code, 'session_data_too_large');
    assert.equal((await c.req('GET', '/data/a')).body.value.length, 3000);
    assert.deepEqual((await c.req('GET', '/data/b')).body, { value: null });
  });

  test('setting a value to what it already is writes nothing', async () => {
    const c = await signedIn();
    await c.req('PUT', '/data/theme', { json: { value: { mode: 'dark', size: 2 } } });
    const patches = countPatches();
    try {
      for (let i = 0; i < 5; i++) assert.equal((await c.req('PUT', '/data/theme', { json: { value: { mode: 'dark', size: 2 } } })).status, 204);
      assert.equal((await c.req('DELETE', '/data/never-set')).status, 204);
      assert.equal(patches.count(), 0);
      await c.req('PUT', '/data/theme', { json: { value: { mode: 'light', size: 2 } } });
      assert.equal(patches.count(), 1, 'a real change is written once');
    } finally {
      patches.restore();
    }
  });

  test('two parallel requests changing different keys both survive (the resave race), 20 pairs', async () => {
    const c = await signedIn();
    await c.req('PUT', '/data/base', { json: { value: 0 } });
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        Promise.all([
          c.req('PUT', `/data/left${i}?barrier=p${i}`, { json: { value: `L${i}` } }),
          c.req('PUT', `/data/right${i}?barrier=p${i}`, { json: { value: `R${i}` } }),
        ]).then((rs) => rs.forEach((r) => assert.equal(r.status, 204, r.text))),
      ),
    );
    for (let i = 0; i < 20; i++) {
      assert.deepEqual((await c.req('GET', `/data/left${i}`)).body, { value: `L${i}` }, `left${i}`);
      assert.deepEqual((await c.req('GET', `/data/right${i}`)).body, { value: `R${i}` }, `right${i}`);
    }
    assert.deepEqual((await c.req('GET', '/data/base')).body, { value: 0 });
  });

  test('a parallel delete and set of different keys do not undo each other', async () => {
    const c = await signedIn();
    await c.req('PUT', '/data/old', { json: { value: 'x' } });
    const d = c.req('DELETE', '/data/old');
    const s = c.req('PUT', '/data/new', { json: { value: 'y' } });
    await Promise.all([d, s]);
    assert.deepEqual((await c.req('GET', '/data/old')).body, { value: null });
    assert.deepEqual((await c.req('GET', '/data/new')).body, { value: 'y' });
  });
});
