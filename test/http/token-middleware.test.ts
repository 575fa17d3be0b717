/** One `authenticate` middleware for both modes in an application's own Express app. */
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import express from 'express';
import { createGatehouse, type Gatehouse } from '../../src/index.js';
import { createMemoryStores } from '../../src/stores/memory/index.js';
import { CHEAP_HASHING, Client, GOOD_PASSWORD, uniqueEmail } from '../support/server.js';

describe('authenticate and requireAuth in an application', () => {
  let gh: Gatehouse;
  let server: Server;
  let url: string;
  let email: string;

  before(async () => {
    gh = await createGatehouse({ stores: createMemoryStores(), config: { databaseUrl: 'memory:', passwordHashing: CHEAP_HASHING } });
    const app = express();
    app.use(gh.wellKnown);
    app.use('/auth', gh.router);
    app.get('/api/whoami', gh.authenticate, gh.requireAuth(), (req, res) => {
      const a = req.auth!;
      res.json({ user: a.user.id, email: a.user.email, sessionId: a.sessionId, mode: a.mode });
    });
    app.use(gh.errorHandler);
    server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    email = uniqueEmail('mw');
    assert.equal((await new Client(url).req('POST', '/auth/register', { json: { email, password: GOOD_PASSWORD } })).status, 201);
  });
  after(async () => {
    await new Promise((r) => server.close(r));
    await gh.close();
  });

  test('a cookie request and a bearer request both get req.auth = {user, sessionId, mode}', async () => {
    const cookie = new Client(url);
    const cl = await cookie.req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD } });
    assert.equal(cl.status, 200);
    const viaCookie = await cookie.req('GET', '/api/whoami');
    assert.equal(viaCookie.status, 200, viaCookie.text);
    assert.equal(viaCookie.body.mode, 'session');
    assert.equal(viaCookie.body.email, email);
    assert.equal(viaCookie.body.sessionId, cl.body.session.id);

    const tl = await new Client(url).req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD, mode: 'token' } });
    const viaBearer = await new Client(url).req('GET', '/api/whoami', { bearer: tl.body.access_token });
    assert.equal(viaBearer.status, 200, viaBearer.text);
    assert.equal(viaBearer.body.mode, 'token');
    assert.equal(viaBearer.body.user, viaCookie.body.user, 'the same user either way');
    assert.equal(viaBearer.body.sessionId, tl.body.session.id);
    assert.notEqual(viaBearer.body.sessionId, viaCookie.body.sessionId);
  });

  test('a bad bearer token gets 401 invalid_token with WWW-Authenticate', async () => {
    const r = await new Client(url).req('GET', '/api/whoami', { bearer: 'eyJhbGciOiJub25lIn0.e30.' });
    assert.equal(r.status, 401);
    assert.equal(r.headers.get('www-authenticate'), 'Bearer error="invalid_token"');
    assert.match(r.headers.get('content-type') ?? '', /^application\/problem\+json/);
    assert.equal(r.body.code, 'invalid_token');
  });

  test('no credential gets 401 unauthenticated without a bearer challenge error', async () => {
    const r = await new Client(url).req('GET', '/api/whoami');
    assert.equal(r.status, 401);
    assert.equal(r.body.code, 'unauthenticated');
    assert.doesNotMatch(r.headers.get('www-authenticate') ?? '', /invalid_token/);
  });

  test('a bearer token wins over a cookie, and a bad one is not rescued by a good cookie', async () => {
    const cookie = new Client(url);
    await cookie.req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD } });
    const r = await cookie.req('GET', '/api/whoami', { bearer: 'not.a.token' });
    assert.equal(r.status, 401);
    assert.equal(r.body.code, 'invalid_token');
  });
});
