import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { start, type RunningExample } from '../../examples/express-app/server.js';
import { createMemoryStores } from '../../src/stores/memory/index.js';
import { CHEAP_HASHING, Client, GOOD_PASSWORD, uniqueEmail } from '../support/server.js';

let app: RunningExample;
const stores = createMemoryStores();

before(async () => {
  app = await start(0, { stores, config: { databaseUrl: 'memory:', passwordHashing: CHEAP_HASHING } });
});
after(async () => {
  await app.close();
  await stores.close();
});

describe('the example Express app', () => {
  test('register → login → /api/notes → logout → 401', async () => {
    const c = new Client(app.url);
    const email = uniqueEmail('example');
    assert.equal((await c.req('GET', '/api/notes')).status, 401, 'protected before login');
    assert.equal((await c.req('POST', '/auth/register', { json: { email, password: GOOD_PASSWORD } })).status, 201);
    const login = await c.req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD } });
    assert.equal(login.status, 200);
    const notes = await c.req('GET', '/api/notes');
    assert.equal(notes.status, 200);
    assert.deepEqual(notes.body, { user: email, notes: [] });
    assert.equal((await c.req('POST', '/api/notes', { json: { text: 'buy milk' } })).status, 201);
    assert.deepEqual((await c.req('GET', '/api/notes')).body.notes, ['buy milk']);
    assert.equal((await c.req('POST', '/auth/logout')).status, 204);
    const afterLogout = await c.req('GET', '/api/notes');
    assert.equal(afterLogout.status, 401);
    assert.match(afterLogout.headers.get('content-type')!, /^application\/problem\+json/);
  });

  test('the visit counter lives on the session: it counts per session and starts over on a new login', async () => {
    const email = uniqueEmail('visits');
    const a = new Client(app.url);
    await a.req('POST', '/auth/register', { json: { email, password: GOOD_PASSWORD } });
    await a.req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD } });
    for (let i = 1; i <= 3; i++) assert.deepEqual((await a.req('GET', '/api/visits')).body, { visits: i });
    const b = new Client(app.url);
    await b.req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD } });
    assert.deepEqual((await b.req('GET', '/api/visits')).body, { visits: 1 });
    assert.deepEqual((await a.req('GET', '/api/visits')).body, { visits: 4 });
  });

  test('users never see each other\'s notes', async () => {
    const mk = async () => {
      const c = new Client(app.url);
      const email = uniqueEmail('iso');
      await c.req('POST', '/auth/register', { json: { email, password: GOOD_PASSWORD } });
      await c.req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD } });
      return c;
    };
    const a = await mk();
    const b = await mk();
    await a.req('POST', '/api/notes', { json: { text: 'private to a' } });
    assert.deepEqual((await b.req('GET', '/api/notes')).body.notes, []);
  });
});
