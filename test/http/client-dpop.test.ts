/** gatehouse/client with DPoP: bound tokens by default, a non-extractable key, proofs on every call, the nonce retry. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { calculateJwkThumbprint, exportJWK } from 'jose';
import { GatehouseClient, memoryKeyStore } from '../../src/client/index.js';
import { startPopServer } from '../support/pop.js';
import { Client, GOOD_PASSWORD, uniqueEmail, type TestServer } from '../support/server.js';
import { decode } from './token-kit.js';

/** A fetch that records `METHOD /path -> status`. */
function recording() {
  const log: string[] = [];
  const f: typeof fetch = async (input, init = {}) => {
    const res = await fetch(input, init);
    log.push(`${init.method ?? 'GET'} ${new URL(String(input)).pathname} ${res.status}`);
    return res;
  };
  return { fetch: f, log };
}

describe('gatehouse/client with DPoP', () => {
  let t: TestServer;
  let n: TestServer;
  const email = uniqueEmail('cdpop');
  before(async () => {
    t = await startPopServer();
    n = await startPopServer({ config: { dpop: { nonce: true } } });
    await new GatehouseClient({ baseUrl: t.url }).register(email, GOOD_PASSWORD);
    await new GatehouseClient({ baseUrl: n.url }).register(email, GOOD_PASSWORD);
  });
  after(async () => {
    await t.close();
    await n.close();
  });

  test('a token login binds the session to the client key: token_type DPoP, cnf.jkt its thumbprint, a non-extractable private key', async () => {
    const store = memoryKeyStore();
    const gh = new GatehouseClient({ baseUrl: t.url, mode: 'token', now: () => t.clock.now(), dpop: { store } });
    const r = await gh.login(email, GOOD_PASSWORD);
    assert.equal(r.mode === 'token' && r.token_type, 'DPoP');
    const pair = (await store.load())!;
    assert.equal(pair.privateKey.extractable, false);
    await assert.rejects(crypto.subtle.exportKey('jwk', pair.privateKey));
    const jkt = await calculateJwkThumbprint(await exportJWK(pair.publicKey), 'sha256');
    assert.deepEqual(decode(gh.accessToken!).payload.cnf, { jkt });
    const me = await gh.me();
    assert.equal(me.session.binding, 'dpop');
    // The same token copied out of the client is refused as Bearer, and as DPoP without the key.
    const stolen = await new Client(t.url).req('GET', '/auth/me', { bearer: gh.accessToken! });
    assert.equal(stolen.status, 401);
    // The key survives in its store: a new client on it keeps proving the same key.
    const again = new GatehouseClient({ baseUrl: t.url, mode: 'token', now: () => t.clock.now(), dpop: { store }, tokens: { accessToken: gh.accessToken!, tokenType: 'DPoP' } });
    assert.equal((await again.me()).user.email, email);
  });

  test('refresh and client.fetch sign proofs too', async () => {
    const gh = new GatehouseClient({ baseUrl: t.url, mode: 'token', now: () => t.clock.now() });
    await gh.login(email, GOOD_PASSWORD);
    const before = gh.accessToken;
    t.clock.advance(11 * 60_000);
    const res = await gh.fetch(`${t.url}/auth/me`);
    assert.equal(res.status, 200, 'refreshed with a proof, then retried with a proof');
    assert.notEqual(gh.accessToken, before);
    assert.equal(decode(gh.accessToken!).payload.cnf.jkt, decode(before!).payload.cnf.jkt, 'still bound to the same key');
  });

  test('with server nonces: one refused attempt, then the retry with the nonce, for login and for calls', async () => {
    const rec = recording();
    const gh = new GatehouseClient({ baseUrl: n.url, mode: 'token', now: () => n.clock.now(), fetch: rec.fetch });
    await gh.login(email, GOOD_PASSWORD);
    assert.deepEqual(rec.log, ['POST /auth/login 400', 'POST /auth/login 200']);
    await gh.me();
    assert.deepEqual(rec.log.slice(2), ['GET /auth/me 200'], 'the nonce from the login answer is used at once');
  });

  test('dpop: false keeps plain bearer tokens', async () => {
    const gh = new GatehouseClient({ baseUrl: t.url, mode: 'token', dpop: false });
    const r = await gh.login(email, GOOD_PASSWORD);
    assert.equal(r.mode === 'token' && r.token_type, 'Bearer');
    assert.equal((await gh.me()).session.binding, null);
  });
});
