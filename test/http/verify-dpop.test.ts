/** gatehouse/verify checks DPoP proofs (RFC 9449) for another service, with the same code as Gatehouse. */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import express from 'express';
import { createVerifier, requireGatehouseToken, type Verifier } from '../../src/verify/index.js';
import { register } from '../support/flows.js';
import { DpopKey, startPopServer } from '../support/pop.js';
import { Client, GOOD_PASSWORD, uniqueEmail, type TestServer } from '../support/server.js';

async function serviceWith(verifier: Verifier): Promise<{ url: string; server: Server }> {
  const app = express();
  app.get('/orders', requireGatehouseToken(verifier), (req, res) => {
    res.json({ user: req.gatehouseClaims!.sub });
  });
  const server = createServer(app);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe('gatehouse/verify with DPoP', () => {
  let gh: TestServer;
  let svc: { url: string; server: Server };
  let plainSvc: { url: string; server: Server };
  let verifier: ReturnType<typeof createVerifier>;
  let key: DpopKey;
  let access: string;
  let unbound: string;
  const ORIGIN = 'https://orders.example.com';

  before(async () => {
    gh = await startPopServer();
    verifier = createVerifier({ issuer: gh.url, audience: 'gatehouse', now: () => gh.clock.now(), dpop: { origin: ORIGIN } });
    svc = await serviceWith(verifier);
    plainSvc = await serviceWith(createVerifier({ issuer: gh.url, audience: 'gatehouse', now: () => gh.clock.now() }));
    key = await DpopKey.create('ES256', () => gh.clock.now());
    const email = uniqueEmail('verify');
    await register(gh, email);
    const login = await new Client(gh.url).req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD, mode: 'token' }, headers: { dpop: await key.proof({ htm: 'POST', htu: `${gh.url}/auth/login` }) } });
    access = login.body.access_token;
    const plain = await new Client(gh.url).req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD, mode: 'token' } });
    unbound = plain.body.access_token;
  });
  after(async () => {
    verifier.close();
    await new Promise((r) => svc.server.close(r));
    await new Promise((r) => plainSvc.server.close(r));
    await gh.close();
  });

  const orders = (url: string, headers: Record<string, string>) => new Client(url).req('GET', '/orders?x=1', { headers });
  const proof = (o: Partial<Parameters<DpopKey['proof']>[0]> = {}) => key.proof({ htm: 'GET', htu: `${ORIGIN}/orders`, accessToken: access, ...o });

  test('a bound token with a proof for this service is accepted', async () => {
    const r = await orders(svc.url, { authorization: `DPoP ${access}`, dpop: await proof() });
    assert.equal(r.status, 200, r.text);
  });

  test('refusals: as Bearer, without a proof, a replayed proof, a proof for Gatehouse itself, another key, an unbound token as DPoP', async () => {
    const bearer = await orders(svc.url, { authorization: `Bearer ${access}` });
    assert.equal(bearer.status, 401);
    assert.equal(bearer.body.code, 'invalid_token');
    const none = await orders(svc.url, { authorization: `DPoP ${access}` });
    assert.equal(none.status, 401);
    assert.equal(none.body.code, 'invalid_dpop_proof');
    assert.equal(none.headers.get('www-authenticate'), 'DPoP error="invalid_dpop_proof", algs="ES256 EdDSA"');
    const p = await proof();
    assert.equal((await orders(svc.url, { authorization: `DPoP ${access}`, dpop: p })).status, 200);
    assert.equal((await orders(svc.url, { authorization: `DPoP ${access}`, dpop: p })).body.code, 'invalid_dpop_proof', 'replay');
    assert.equal((await orders(svc.url, { authorization: `DPoP ${access}`, dpop: await proof({ htu: `${gh.url}/orders` }) })).body.code, 'invalid_dpop_proof', 'another origin');
    const thief = await DpopKey.create('ES256', () => gh.clock.now());
    assert.equal((await orders(svc.url, { authorization: `DPoP ${access}`, dpop: await thief.proof({ htm: 'GET', htu: `${ORIGIN}/orders`, accessToken: access }) })).body.code, 'invalid_dpop_proof', 'thief');
    const u = await orders(svc.url, { authorization: `DPoP ${unbound}`, dpop: await key.proof({ htm: 'GET', htu: `${ORIGIN}/orders`, accessToken: unbound }) });
    assert.equal(u.status, 401);
    assert.equal(u.body.code, 'invalid_token');
    assert.equal((await orders(svc.url, { authorization: `Bearer ${unbound}` })).status, 200, 'an unbound token as Bearer still works');
  });

  test('verify(token) alone refuses a bound token; a verifier without dpop refuses bound tokens either way', async () => {
    assert.equal(await verifier.verify(access), null);
    assert.ok(await verifier.verify(access, { proof: await proof(), method: 'GET', path: '/orders' }));
    const r = await orders(plainSvc.url, { authorization: `DPoP ${access}`, dpop: await proof() });
    assert.equal(r.status, 401);
    assert.equal(r.body.code, 'invalid_dpop_proof');
    assert.throws(() => createVerifier({ issuer: gh.url, audience: 'gatehouse', dpop: { origin: 'https://x.example/path' } }), TypeError);
  });
});
