/**
 * Proofs of possession across instances: two Gatehouse instances on one SQLite file and one Redis,
 * as a deployment behind a load balancer. A DPoP proof used on one instance is a replay on the
 * other, a nonce one instance hands out is good on the other, and a DBSC challenge or bound cookie
 * from one instance works on the other (proof marks live in Redis).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openStores } from '../../src/stores/open.js';
import type { Stores } from '../../src/ports.js';
import { TestClock } from '../support/clock.js';
import { register } from '../support/flows.js';
import { DbscBrowser, DpopKey, parseChallenge, parseRegistration, startPopServer } from '../support/pop.js';
import { Client, GOOD_PASSWORD, uniqueEmail, type TestServer } from '../support/server.js';
import { deletePrefix, REDIS_URL, requireRedis, skipReason, testPrefix } from '../support/services.js';

const redisUrl = await requireRedis();

describe('proofs of possession across two instances sharing Redis', { skip: redisUrl === null ? skipReason('Redis', REDIS_URL) : false }, () => {
  let a: TestServer;
  let b: TestServer;
  let dir: string;
  let prefix: string;
  const opened: Stores[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gh-pop-'));
    prefix = testPrefix();
    const open = async () => {
      const s = await openStores({ databaseUrl: `sqlite:${join(dir, 'gh.db')}`, redisUrl: redisUrl!, redisPrefix: prefix });
      opened.push(s);
      return s;
    };
    const clock = new TestClock();
    // One public URL for both, as behind a load balancer: a proof names it whichever instance serves it.
    a = await startPopServer({ stores: await open(), clock, config: { dpop: { nonce: true } } });
    b = await startPopServer({ stores: await open(), clock, config: { publicUrl: a.url, dpop: { nonce: true } } });
  });
  after(async () => {
    await a?.close();
    await b?.close();
    for (const s of opened) await s.close();
    const { connect } = await import('../../src/stores/redis/client.js');
    const r = connect({ url: redisUrl! });
    await deletePrefix(r as never, prefix).finally(() => r.quit());
    rmSync(dir, { recursive: true, force: true });
  });

  test('a DPoP proof used on one instance is refused as a replay on the other; a nonce from one is good on the other', async () => {
    const key = await DpopKey.create('ES256', () => a.clock.now());
    const email = uniqueEmail('inst');
    await register(a, email);
    const login = (t: TestServer, nonce?: string) =>
      key.proof({ htm: 'POST', htu: `${a.url}/auth/login`, ...(nonce ? { nonce } : {}) }).then((p) => new Client(t.url).req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD, mode: 'token' }, headers: { dpop: p } }));
    const first = await login(a);
    assert.equal(first.body.error, 'use_dpop_nonce');
    const nonce = first.headers.get('dpop-nonce')!;
    const ok = await login(b, nonce);
    assert.equal(ok.status, 200, `instance b accepts instance a's nonce: ${ok.text}`);
    const access = ok.body.access_token as string;
    const proof = await key.proof({ htm: 'GET', htu: `${a.url}/auth/me`, accessToken: access, nonce });
    const get = (t: TestServer, p: string) => new Client(t.url).req('GET', '/auth/me', { headers: { authorization: `DPoP ${access}`, dpop: p } });
    assert.equal((await get(a, proof)).status, 200);
    const replay = await get(b, proof);
    assert.equal(replay.status, 401);
    assert.equal(replay.body.code, 'invalid_dpop_proof');
    assert.equal((await get(b, await key.proof({ htm: 'GET', htu: `${a.url}/auth/me`, accessToken: access, nonce }))).status, 200);
  });

  test('DBSC: registered on one instance, challenged by one and answered on the other, the bound cookie good on both', async () => {
    const email = uniqueEmail('inst');
    await register(a, email);
    const client = new Client(a.url);
    const login = await client.req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD } });
    const offer = parseRegistration(login.headers.get('secure-session-registration'))!;
    const browser = await DbscBrowser.create(() => a.clock.now());
    const viaB = new Client(b.url);
    viaB.jar = client.jar;
    const reg = await viaB.req('POST', offer.path, { headers: { 'secure-session-response': DbscBrowser.header(await browser.registrationProof(offer.challenge)) } });
    assert.equal(reg.status, 200, reg.text);
    assert.equal((await client.req('GET', '/auth/me')).status, 200, 'the bound cookie from b works on a');
    a.clock.advance(11 * 60_000);
    client.jar.delete('__Host-gatehouse-bound');
    const sid = `"${reg.body.session_identifier}"`;
    const challenged = await client.req('POST', reg.body.refresh_url, { headers: { 'sec-secure-session-id': sid } });
    assert.equal(challenged.status, 403);
    const ch = parseChallenge(challenged.headers.get('secure-session-challenge'))!;
    const answered = await viaB.req('POST', reg.body.refresh_url, { headers: { 'sec-secure-session-id': sid, 'secure-session-response': DbscBrowser.header(await browser.refreshProof(ch.challenge)) } });
    assert.equal(answered.status, 200, answered.text);
    const again = await client.req('POST', reg.body.refresh_url, { headers: { 'sec-secure-session-id': sid, 'secure-session-response': DbscBrowser.header(await browser.refreshProof(ch.challenge)) } });
    assert.equal(again.status, 403, 'the challenge was answered once, on the other instance');
  });
});
