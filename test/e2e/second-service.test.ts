/** A second Express service trusts Gatehouse access tokens through gatehouse/verify, the JWKS and the revocation list. */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createSecondService, type SecondService } from '../../examples/second-service/app.js';
import { createVerifier } from '../../src/verify/index.js';
import { Client, startTestServer, type TestServer } from '../support/server.js';
import { b64, tokenLogin } from '../http/token-kit.js';

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const close = (s: Server) => new Promise((r) => s.close(r));

describe('second service trusting Gatehouse tokens', () => {
  let gh: TestServer;
  let issuer: string;
  let svc: Server;
  let service: SecondService;
  let svcUrl: string;

  before(async () => {
    const port = await freePort();
    issuer = `http://127.0.0.1:${port}`;
    gh = await startTestServer({ port, config: { publicUrl: issuer }, claims: () => ({ role: 'reader' }) });
    service = createSecondService({ issuer, audience: 'gatehouse', jwksCooldownMs: 0, now: () => gh.clock.now(), revocations: { pollMs: 50 } });
    svc = createServer(service.app);
    svcUrl = await listen(svc);
  });
  after(async () => {
    service.close();
    await close(svc);
    await gh.close();
  });

  const orders = (token?: string, path = '/api/orders') => new Client(svcUrl).req('GET', path, token ? { bearer: token } : {});
  const refused = (r: { status: number; headers: Headers; body: any }, what: string) => {
    assert.equal(r.status, 401, what);
    assert.equal(r.headers.get('www-authenticate'), 'Bearer error="invalid_token"', what);
    assert.match(r.headers.get('content-type') ?? '', /^application\/problem\+json/, what);
  };

  test('accepts an access token issued by Gatehouse and sees its claims', async () => {
    const login = await tokenLogin(gh);
    assert.equal(login.status, 200);
    const r = await orders(login.access);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.user, login.body.user.id);
    assert.equal(r.body.session, login.body.session.id);
    assert.equal(r.body.role, 'reader');
  });

  test('refuses no token, garbage, alg none and a tampered payload', async () => {
    const { access } = await tokenLogin(gh);
    const none = await orders();
    assert.equal(none.status, 401);
    assert.equal(none.body.code, 'unauthenticated');
    refused(await orders('garbage'), 'garbage');
    const [h, p, s] = access.split('.');
    refused(await orders(`${b64({ alg: 'none', typ: 'at+jwt' })}.${p}.`), 'alg none');
    const payload = JSON.parse(Buffer.from(p!, 'base64url').toString());
    refused(await orders(`${h}.${b64({ ...payload, sub: 'admin' })}.${s}`), 'tampered');
    refused(await orders(`${access}==`), 'padded');
    const q = await new Client(svcUrl).req('GET', `/api/orders?access_token=${access}`);
    assert.equal(q.status, 401, 'query-string tokens are ignored');
  });

  test('refuses a token soon after its session is logged out, and keeps accepting the other sessions', async () => {
    const a = await tokenLogin(gh);
    const b = await tokenLogin(gh, { email: a.email });
    assert.equal((await orders(a.access)).status, 200);
    assert.equal((await new Client(gh.url).req('POST', '/auth/logout', { bearer: a.access })).status, 204);
    let r = await orders(a.access);
    for (let deadline = Date.now() + 15_000; r.status === 200 && Date.now() < deadline; r = await orders(a.access)) await new Promise((ok) => setTimeout(ok, 25));
    refused(r, 'logged out');
    assert.equal((await orders(b.access)).status, 200, 'the other session');
  });

  test('refuses an expired token', async () => {
    const { access } = await tokenLogin(gh);
    assert.equal((await orders(access)).status, 200);
    gh.clock.advance(11 * 60_000);
    refused(await orders(access), 'expired');
  });

  test('follows a key rotation: tokens signed with the new key are accepted', async () => {
    const old = await tokenLogin(gh);
    await gh.srv.gatehouse.core.admin.rotateKey();
    const fresh = await tokenLogin(gh);
    assert.equal((await orders(fresh.access)).status, 200, 'new kid fetched from the JWKS');
    assert.equal((await orders(old.access)).status, 200, 'old key still published');
  });

  test('refuses tokens for another audience or from another issuer', async () => {
    const { access } = await tokenLogin(gh);
    const otherAud = createVerifier({ issuer, audience: 'billing', now: () => gh.clock.now() });
    assert.equal(await otherAud.verify(access), null);
    const otherIss = createVerifier({ issuer: 'http://127.0.0.1:9', jwksUrl: `${issuer}/.well-known/jwks.json`, audience: 'gatehouse', now: () => gh.clock.now() });
    assert.equal(await otherIss.verify(access), null);
    const right = createVerifier({ issuer, audience: 'gatehouse', now: () => gh.clock.now() });
    assert.equal((await right.verify(access))?.sub, (await new Client(gh.url).req('GET', '/auth/me', { bearer: access })).body.user.id);
  });

  test('refuses a token from an impostor Gatehouse claiming the same issuer with its own keys', async () => {
    const impostor = await startTestServer({ config: { publicUrl: issuer } });
    try {
      const { access } = await tokenLogin(impostor);
      refused(await orders(access), 'impostor');
    } finally {
      await impostor.close();
    }
  });

  test('answers 503 (not 401, not 500) when the issuer keys cannot be fetched', async () => {
    const down = await freePort();
    const broken = createSecondService({ issuer, jwksUrl: `http://127.0.0.1:${down}/jwks.json`, audience: 'gatehouse', jwksTimeoutMs: 1000 });
    const lonely = createServer(broken.app);
    const url = await listen(lonely);
    try {
      const { access } = await tokenLogin(gh);
      const r = await new Client(url).req('GET', '/api/orders', { bearer: access });
      assert.equal(r.status, 503);
      assert.equal(r.body.status, 503);
    } finally {
      broken.close();
      await close(lonely);
    }
  });

  test('createVerifier refuses a symmetric or unknown algorithm and a missing issuer at construction', () => {
    assert.throws(() => createVerifier({ issuer, audience: 'gatehouse', algorithms: ['HS256' as 'EdDSA'] }), TypeError);
    assert.throws(() => createVerifier({ issuer, audience: 'gatehouse', algorithms: ['none' as 'EdDSA'] }), TypeError);
    assert.throws(() => createVerifier({ issuer: '', audience: 'gatehouse' }), TypeError);
    assert.throws(() => createVerifier({ issuer, audience: '' }), TypeError);
  });
});
