/**
 * GET /auth/session and GET /auth/refresh: a page can ask whether it is signed in, and whether a
 * refresh cookie is there to use, without an error answer and without keeping an idle session alive.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client, GOOD_PASSWORD, startTestServer, uniqueEmail, type TestServer } from '../support/server.js';
import { freePort } from '../browser/support.js';

describe('session checks', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(() => t.close());

  async function user(): Promise<string> {
    const email = uniqueEmail('check');
    assert.equal((await new Client(t.url).req('POST', '/auth/register', { json: { email, password: GOOD_PASSWORD } })).status, 201);
    return email;
  }

  test('without a credential GET /auth/session answers 200 with user and session null, and sets nothing', async () => {
    const r = await new Client(t.url).req('GET', '/auth/session');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { user: null, session: null });
    assert.deepEqual(r.headers.getSetCookie(), []);
    assert.equal(r.headers.get('cache-control'), 'no-store');
  });

  test('with a session cookie it answers the user and the session, like GET /auth/me', async () => {
    const email = await user();
    const c = new Client(t.url);
    await c.req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD } });
    const r = await c.req('GET', '/auth/session');
    assert.equal(r.status, 200);
    assert.equal(r.body.user.email, email);
    assert.equal(r.body.session.mode, 'session');
    assert.deepEqual(r.body, (await c.req('GET', '/auth/me')).body);
  });

  test('asking is not using: checks every few minutes do not keep an idle session alive, a real request does', async () => {
    const email = await user();
    const idle = new Client(t.url);
    const used = new Client(t.url);
    await idle.req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD } });
    await used.req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD } });
    // 30 minutes idle timeout: check (or use) every 5 minutes for 35 minutes.
    for (let i = 0; i < 7; i++) {
      t.clock.advance(5 * 60_000);
      const checked = await idle.req('GET', '/auth/session');
      assert.equal(checked.status, 200);
      assert.equal(checked.body.user !== null, i < 5, `check ${i + 1} at ${(i + 1) * 5} min`);
      assert.equal((await used.req('GET', '/auth/me')).status, 200, `use ${i + 1}`);
    }
    // The ended session's cookie was cleared by the check that found it gone.
    assert.equal(idle.jar.has('__Host-gatehouse'), false);
  });

  test('a revoked or forged session cookie gets null and the cookie is cleared', async () => {
    const email = await user();
    const c = new Client(t.url);
    const login = await c.req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD } });
    assert.equal((await c.req('DELETE', `/auth/sessions/${login.body.session.id}`)).status, 204);
    const revoked = await c.req('GET', '/auth/session', { headers: { cookie: `__Host-gatehouse=${login.headers.getSetCookie()[0]!.split(';')[0]!.split('=')[1]}` } });
    assert.deepEqual(revoked.body, { user: null, session: null });
    assert.match(revoked.headers.getSetCookie()[0] ?? '', /^__Host-gatehouse=; .*Max-Age=0/);
    const forged = await new Client(t.url).req('GET', '/auth/session', { headers: { cookie: '__Host-gatehouse=AAAAAAAAAAAAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB' } });
    assert.deepEqual(forged.body, { user: null, session: null });
  });

  test('a bearer token: 200 while valid; 401 invalid_token with WWW-Authenticate once refused (so the client refreshes)', async () => {
    const email = await user();
    const grant = (await new Client(t.url).req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD, mode: 'token' } })).body;
    const ok = await new Client(t.url).req('GET', '/auth/session', { bearer: grant.access_token });
    assert.equal(ok.status, 200);
    assert.equal(ok.body.session.id, grant.session.id);
    assert.equal(ok.body.session.mode, 'token');
    assert.equal((await new Client(t.url).req('DELETE', `/auth/sessions/${grant.session.id}`, { bearer: grant.access_token })).status, 204);
    const refused = await new Client(t.url).req('GET', '/auth/session', { bearer: grant.access_token });
    assert.equal(refused.status, 401);
    assert.equal(refused.body.code, 'invalid_token');
    assert.match(refused.headers.get('www-authenticate') ?? '', /invalid_token/);
  });

  test('GET /auth/refresh says whether a refresh cookie came, without spending it', async () => {
    assert.deepEqual((await new Client(t.url).req('GET', '/auth/refresh')).body, { refresh_cookie: false });
    const email = await user();
    const c = new Client(t.url);
    const login = await c.req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD, mode: 'token', refresh_transport: 'cookie' } });
    assert.equal(login.status, 200);
    // The Client jar sends every cookie on every path; a browser sends this one only under /auth/refresh.
    const has = await c.req('GET', '/auth/refresh');
    assert.equal(has.status, 200);
    assert.deepEqual(has.body, { refresh_cookie: true });
    assert.deepEqual(has.headers.getSetCookie(), []);
    t.clock.advance(60_000); // past the reuse grace: had the check spent the token, this refresh would be a reuse
    assert.equal((await c.req('POST', '/auth/refresh', { json: {} })).status, 200);
  });
});

describe('the public URL follows the port', () => {
  test('with a port and no public URL, the issuer and the JWKS address name that port', async () => {
    const port = await freePort();
    const t = await startTestServer({ port, config: { port } });
    try {
      const r = await new Client(t.url).req('GET', '/.well-known/openid-configuration');
      assert.equal(r.body.issuer, `http://localhost:${port}`);
      assert.equal(r.body.jwks_uri, `http://localhost:${port}/.well-known/jwks.json`);
    } finally {
      await t.close();
    }
  });
});
