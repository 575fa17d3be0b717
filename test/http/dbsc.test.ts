/**
 * Device Bound Session Credentials for cookie sessions, driven by a spec-following DBSC client
 * (test/support/pop.ts): the registration offer after a cookie login, registration with a `dbsc+jwt`
 * proof, the short bound cookie, the refresh endpoint's challenge, and what a copied cookie pair is
 * worth on another machine. Every malformed proof is refused.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { generateKeyPair } from 'jose';
import { sha256b64 } from '../../src/core/proof-jwt.js';
import { register } from '../support/flows.js';
import { DbscBrowser, parseChallenge, parseRegistration, startPopServer } from '../support/pop.js';
import { Client, GOOD_PASSWORD, uniqueEmail, type TestServer } from '../support/server.js';

const LONG = '__Host-gatehouse';
const BOUND = '__Host-gatehouse-bound';
const TTL = 10 * 60_000;

interface Device {
  client: Client;
  browser: DbscBrowser;
  sessionId: string;
  refreshUrl: string;
}

async function cookieLogin(t: TestServer) {
  const email = uniqueEmail('dbsc');
  await register(t, email);
  const client = new Client(t.url);
  const r = await client.req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD } });
  assert.equal(r.status, 200, r.text);
  return { client, email, r, offer: parseRegistration(r.headers.get('secure-session-registration')) };
}

/** Logs in with cookies and registers a DBSC key the way Chrome does. */
async function boundDevice(t: TestServer): Promise<Device> {
  const { client, offer } = await cookieLogin(t);
  assert.ok(offer);
  const browser = await DbscBrowser.create(() => t.clock.now());
  const reg = await client.req('POST', offer.path, { headers: { 'secure-session-response': DbscBrowser.header(await browser.registrationProof(offer.challenge)) } });
  assert.equal(reg.status, 200, reg.text);
  return { client, browser, sessionId: reg.body.session_identifier, refreshUrl: reg.body.refresh_url };
}

/** One DBSC refresh as a browser does it: the request without a proof, the 403 challenge, the signed retry. */
async function refreshDevice(t: TestServer, d: Device, sign: (challenge: string) => Promise<string> = (c) => d.browser.refreshProof(c)) {
  const first = await d.client.req('POST', d.refreshUrl, { headers: { 'sec-secure-session-id': `"${d.sessionId}"` } });
  if (first.status !== 403) return { first, second: null };
  const ch = parseChallenge(first.headers.get('secure-session-challenge'));
  assert.ok(ch);
  const second = await d.client.req('POST', d.refreshUrl, { headers: { 'sec-secure-session-id': `"${d.sessionId}"`, 'secure-session-response': DbscBrowser.header(await sign(ch.challenge)) } });
  return { first, second };
}

// With GATEHOUSE_SECRET, registration challenges carry their own HMAC and a sign-in stores nothing for
// them; without it they are stored marks. Both must hold every rule below.
for (const [variant, config] of [
  ['challenges signed with the server secret', { secret: 'a test secret of at least thirty-two characters' }],
  ['challenges stored, no server secret', {}],
] as const) {
  describe(`DBSC: registration (${variant})`, () => {
    let t: TestServer;
    before(async () => {
      t = await startPopServer({ config });
    });
    after(() => t.close());

    test('a cookie login offers registration: Secure-Session-Registration with (ES256), the path and a challenge', async () => {
      const { offer, r } = await cookieLogin(t);
      assert.deepEqual(offer?.algs, ['ES256']);
      assert.equal(offer?.path, '/auth/dbsc/register');
      assert.equal(r.body.session.binding, null, 'not bound until the browser registers');
      const stored = await t.stores.proofs.hasProofMark('challenge', sha256b64(`${r.body.session.id}:${offer!.challenge}`), t.clock.now());
      if ('secret' in config) {
        // Expiry, nonce and HMAC: the sign-in stored nothing for it.
        assert.match(offer!.challenge, /^[0-9a-z]{1,11}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/);
        assert.equal(stored, false, 'a signed registration challenge is not stored');
      } else {
        assert.match(offer!.challenge, /^[A-Za-z0-9_-]{22}$/);
        assert.equal(stored, true, 'without a server secret the challenge is a stored mark');
      }
      // Token logins are bound with DPoP instead.
      const email = uniqueEmail('tok');
      await register(t, email);
      const tok = await new Client(t.url).req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD, mode: 'token' } });
      assert.equal(tok.headers.get('secure-session-registration'), null);
    });

    test('registration verifies the proof, binds the session, answers the session instructions and sets a short bound cookie', async () => {
      const { client, offer, r } = await cookieLogin(t);
      const browser = await DbscBrowser.create(() => t.clock.now());
      const proof = await browser.registrationProof(offer!.challenge, { aud: `${t.url}/auth/dbsc/register`, iat: browser.iat() });
      const reg = await client.req('POST', offer!.path, { headers: { 'secure-session-response': DbscBrowser.header(proof) } });
      assert.equal(reg.status, 200, reg.text);
      assert.equal(reg.headers.get('cache-control'), 'no-store');
      assert.deepEqual(reg.body, {
        session_identifier: r.body.session.id,
        refresh_url: '/auth/dbsc/refresh',
        scope: { include_site: false, scope_specification: [] },
        credentials: [{ type: 'cookie', name: BOUND, attributes: 'Path=/; Secure; HttpOnly; SameSite=Lax' }],
      });
      const set = reg.headers.getSetCookie().find((c) => c.startsWith(`${BOUND}=`))!;
      assert.match(set, /; Path=\/; HttpOnly; Secure; SameSite=Lax; Max-Age=600$/);
      assert.equal(reg.headers.get('secure-session-challenge'), null, 'no challenge on the registration answer (Chrome reports an error)');
      const stored = await t.stores.sessions.getSession(r.body.session.id, t.clock.now());
      assert.equal(stored?.binding?.kind, 'dbsc');
      assert.deepEqual(JSON.parse(stored!.binding!.kind === 'dbsc' ? stored!.binding!.key : '{}'), { crv: 'P-256', kty: 'EC', x: browser.jwk.x, y: browser.jwk.y });
      const me = await client.req('GET', '/auth/me');
      assert.equal(me.status, 200);
      assert.equal(me.body.session.binding, 'dbsc');
      const list = await client.req('GET', '/auth/sessions');
      assert.equal(list.body.sessions.find((s: any) => s.current).binding, 'dbsc');
      const events = await t.stores.audit.listEvents({ userId: r.body.user.id, limit: 5 });
      assert.equal(events[0]?.type, 'session.bound');
    });

    test('every malformed registration is refused with 400 invalid_dbsc_proof, and the session stays unbound', async () => {
      const { client, offer, r } = await cookieLogin(t);
      const browser = await DbscBrowser.create(() => t.clock.now());
      const other = await DbscBrowser.create(() => t.clock.now());
      const thief = await generateKeyPair('ES256');
      const c = offer!.challenge;
      const cases: Array<[string, string]> = [
        ['signed by another key than the jwk it shows (wrong key)', await browser.sign({ jti: c }, { jwk: browser.jwk }, thief.privateKey)],
        ['wrong challenge', await browser.registrationProof('a-challenge-never-issued')],
        ['wrong jti type', await browser.sign({ jti: 42 }, { jwk: browser.jwk })],
        ['no jti', await browser.sign({}, { jwk: browser.jwk })],
        ['wrong aud', await browser.registrationProof(c, { aud: 'https://evil.example/auth/dbsc/register' })],
        ['expired (iat an hour ago)', await browser.registrationProof(c, { iat: browser.iat() - 3600 })],
        ['iat in the future', await browser.registrationProof(c, { iat: browser.iat() + 3600 })],
        ['typ JWT', await browser.registrationProof(c, {}, { typ: 'JWT' })],
        ['alg RS256 claimed', await browser.registrationProof(c, {}, { alg: 'RS256' }).catch(() => 'x.y.z')],
        ['no jwk', await browser.sign({ jti: c })],
        ['a private jwk', await browser.sign({ jti: c }, { jwk: { ...browser.jwk, d: 'AAAA' } })],
        ['an authorization claim never offered', await browser.registrationProof(c, { authorization: 'code' })],
        ['not a JWS', 'not-a-jws'],
      ];
      for (const [what, proof] of cases) {
        const reg = await client.req('POST', offer!.path, { headers: { 'secure-session-response': DbscBrowser.header(proof) } });
        assert.equal(reg.status, 400, `${what}: ${reg.status} ${reg.text}`);
        assert.equal(reg.body.code, 'invalid_dbsc_proof', what);
      }
      const missing = await client.req('POST', offer!.path);
      assert.equal(missing.status, 400);
      // A challenge answered by a bad proof is not used up by it: the real browser can still register.
      assert.equal((await t.stores.sessions.getSession(r.body.session.id, t.clock.now()))?.binding, null);
      const ok = await client.req('POST', offer!.path, { headers: { 'secure-session-response': DbscBrowser.header(await other.registrationProof(c)) } });
      assert.equal(ok.status, 200, ok.text);
    });

    test('a registration proof cannot be replayed, nor a bound session take another key', async () => {
      const { client, offer } = await cookieLogin(t);
      const browser = await DbscBrowser.create(() => t.clock.now());
      const proof = DbscBrowser.header(await browser.registrationProof(offer!.challenge));
      assert.equal((await client.req('POST', offer!.path, { headers: { 'secure-session-response': proof } })).status, 200);
      const again = await client.req('POST', offer!.path, { headers: { 'secure-session-response': proof } });
      assert.equal(again.status, 400, 'replayed registration');
      assert.equal(again.body.code, 'invalid_dbsc_proof');
    });

    test('a challenge offered to one session does not register another; no session cookie is 401', async () => {
      const a = await cookieLogin(t);
      const b = await cookieLogin(t);
      const browser = await DbscBrowser.create(() => t.clock.now());
      const cross = await b.client.req('POST', a.offer!.path, { headers: { 'secure-session-response': DbscBrowser.header(await browser.registrationProof(a.offer!.challenge)) } });
      assert.equal(cross.status, 400);
      const anon = await new Client(t.url).req('POST', a.offer!.path, { headers: { 'secure-session-response': DbscBrowser.header(await browser.registrationProof(a.offer!.challenge)) } });
      assert.equal(anon.status, 401);
      assert.equal(anon.body.code, 'unauthenticated');
    });

    test('a registration challenge expires after five minutes', async () => {
      const { client, offer } = await cookieLogin(t);
      const browser = await DbscBrowser.create(() => t.clock.now());
      t.clock.advance(5 * 60_000 + 1000);
      const reg = await client.req('POST', offer!.path, { headers: { 'secure-session-response': DbscBrowser.header(await browser.registrationProof(offer!.challenge)) } });
      assert.equal(reg.status, 400);
    });
  });

  describe(`DBSC: the bound cookie and its refresh (${variant})`, () => {
    let t: TestServer;
    before(async () => {
      t = await startPopServer({ config });
    });
    after(() => t.close());

    test('a bound session needs its bound cookie: without it (or with another session\'s) 401, and the long cookie is kept', async () => {
      const d = await boundDevice(t);
      assert.equal((await d.client.req('GET', '/auth/me')).status, 200);
      const longOnly = new Client(t.url);
      longOnly.jar.set(LONG, d.client.jar.get(LONG)!);
      const r = await longOnly.req('GET', '/auth/me');
      assert.equal(r.status, 401);
      assert.equal(r.body.code, 'unauthenticated');
      assert.ok(!r.headers.getSetCookie().some((c) => c.startsWith(`${LONG}=`)), 'the session cookie is not cleared');
      const other = await boundDevice(t);
      longOnly.jar.set(BOUND, other.client.jar.get(BOUND)!);
      assert.equal((await longOnly.req('GET', '/auth/me')).status, 401, "another session's bound cookie");
      longOnly.jar.set(BOUND, 'not.a.cookie');
      assert.equal((await longOnly.req('GET', '/auth/me')).status, 401, 'garbage');
    });

    test('when the bound cookie expires, the browser refreshes: 403 with a challenge, then 200 with a new cookie and the next challenge', async () => {
      const d = await boundDevice(t);
      const before = d.client.jar.get(BOUND);
      t.clock.advance(TTL + 1000);
      // The browser dropped the expired cookie (Max-Age); the server refuses it anyway.
      const stale = await d.client.req('GET', '/auth/me');
      assert.equal(stale.status, 401, 'expired bound cookie');
      d.client.jar.delete(BOUND);
      const { first, second } = await refreshDevice(t, d);
      assert.equal(first.status, 403);
      const ch = parseChallenge(first.headers.get('secure-session-challenge'));
      assert.equal(ch?.id, d.sessionId);
      assert.equal(second?.status, 200, second?.text);
      assert.equal(second?.body.session_identifier, d.sessionId);
      assert.notEqual(d.client.jar.get(BOUND), before, 'a new bound cookie');
      const next = parseChallenge(second!.headers.get('secure-session-challenge'));
      assert.equal(next?.id, d.sessionId);
      assert.equal((await d.client.req('GET', '/auth/me')).status, 200);
      // The challenge handed out with the cookie makes the next refresh one request.
      t.clock.advance(TTL + 1000);
      const oneShot = await d.client.req('POST', d.refreshUrl, { headers: { 'sec-secure-session-id': `"${d.sessionId}"`, 'secure-session-response': DbscBrowser.header(await d.browser.refreshProof(next!.challenge)) } });
      assert.equal(oneShot.status, 200, oneShot.text);
    });

    test('a stolen cookie pair replayed from another machine works only until the short cookie expires', async () => {
      const d = await boundDevice(t);
      const thief = new Client(t.url);
      for (const [k, v] of d.client.jar) thief.jar.set(k, v);
      assert.equal((await thief.req('GET', '/auth/me')).status, 200, 'within the bound cookie lifetime');
      t.clock.advance(TTL + 1000);
      thief.jar.delete(BOUND);
      assert.equal((await thief.req('GET', '/auth/me')).status, 401, 'after it');
      // The thief asks for a challenge (it holds the long cookie) but cannot sign it with the device key.
      const thiefKey = await DbscBrowser.create(() => t.clock.now());
      const { first, second } = await refreshDevice(t, { ...d, client: thief, browser: thiefKey });
      assert.equal(first.status, 403);
      assert.equal(second?.status, 400);
      assert.equal(second?.body.code, 'invalid_dbsc_proof');
      assert.ok(!thief.jar.has(BOUND));
      assert.equal((await thief.req('GET', '/auth/me')).status, 401);
      const events = await t.stores.audit.listEvents({ limit: 50 });
      assert.ok(events.some((e) => e.type === 'session.proof_refused' && e.sessionId === d.sessionId && e.detail?.binding === 'dbsc'), 'audited as possible theft');
      // The device itself refreshes and carries on.
      d.client.jar.delete(BOUND);
      assert.equal((await refreshDevice(t, d)).second?.status, 200);
      assert.equal((await d.client.req('GET', '/auth/me')).status, 200);
    });

    test('malformed refresh proofs are refused: wrong key, a key in the header, wrong aud, expired, other typ or alg', async () => {
      const d = await boundDevice(t);
      const other = await generateKeyPair('ES256');
      const cases: Array<[string, (c: string) => Promise<string>]> = [
        ['signed by another key', (c) => d.browser.sign({ jti: c }, {}, other.privateKey)],
        ['a jwk in the header (a refresh proof must not bring a key)', (c) => d.browser.sign({ jti: c }, { jwk: d.browser.jwk })],
        ['wrong aud', (c) => d.browser.refreshProof(c, { aud: `${t.url}/auth/dbsc/register` })],
        ['expired (iat an hour ago)', (c) => d.browser.refreshProof(c, { iat: d.browser.iat() - 3600 })],
        ['typ JWT', (c) => d.browser.refreshProof(c, {}, { typ: 'JWT' })],
        ['alg none', async (c) => `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'dbsc+jwt' })).toString('base64url')}.${Buffer.from(JSON.stringify({ jti: c })).toString('base64url')}.`],
      ];
      for (const [what, sign] of cases) {
        const { first, second } = await refreshDevice(t, d, sign);
        assert.equal(first.status, 403, what);
        assert.equal(second?.status, 400, `${what}: ${second?.status} ${second?.text}`);
        assert.equal(second?.body.code, 'invalid_dbsc_proof', what);
      }
      // With the right key and aud, iat as Chrome sends it (a number, or a numeric string), it passes.
      const ok = await refreshDevice(t, d, (c) => d.browser.refreshProof(c, { aud: `${t.url}/auth/dbsc/refresh`, iat: String(d.browser.iat()) }));
      assert.equal(ok.second?.status, 200, ok.second?.text);
    });

    test('a refresh challenge answers once: a replayed refresh proof, an unknown challenge or another session\'s challenge gets a new challenge (403)', async () => {
      const d = await boundDevice(t);
      const { first, second } = await refreshDevice(t, d);
      assert.equal(second?.status, 200);
      const ch = parseChallenge(first.headers.get('secure-session-challenge'))!;
      const replay = await d.client.req('POST', d.refreshUrl, { headers: { 'sec-secure-session-id': `"${d.sessionId}"`, 'secure-session-response': DbscBrowser.header(await d.browser.refreshProof(ch.challenge)) } });
      assert.equal(replay.status, 403, 'a used challenge');
      assert.ok(parseChallenge(replay.headers.get('secure-session-challenge')));
      const unknown = await d.client.req('POST', d.refreshUrl, { headers: { 'sec-secure-session-id': `"${d.sessionId}"`, 'secure-session-response': DbscBrowser.header(await d.browser.refreshProof('never-issued')) } });
      assert.equal(unknown.status, 403);
      const e = await boundDevice(t);
      const theirs = parseChallenge((await e.client.req('POST', e.refreshUrl, { headers: { 'sec-secure-session-id': `"${e.sessionId}"` } })).headers.get('secure-session-challenge'))!;
      const cross = await d.client.req('POST', d.refreshUrl, { headers: { 'sec-secure-session-id': `"${d.sessionId}"`, 'secure-session-response': DbscBrowser.header(await d.browser.refreshProof(theirs.challenge)) } });
      assert.equal(cross.status, 403);
      // A challenge older than its lifetime is refused as well.
      const old = parseChallenge((await d.client.req('POST', d.refreshUrl, { headers: { 'sec-secure-session-id': `"${d.sessionId}"` } })).headers.get('secure-session-challenge'))!;
      t.clock.advance(5 * 60_000 + 1000);
      const expired = await d.client.req('POST', d.refreshUrl, { headers: { 'sec-secure-session-id': `"${d.sessionId}"`, 'secure-session-response': DbscBrowser.header(await d.browser.refreshProof(old.challenge)) } });
      assert.equal(expired.status, 403);
    });

    test('the refresh endpoint tells the browser to stop ({"continue":false}) for an ended session or another session id', async () => {
      const d = await boundDevice(t);
      const wrongId = await d.client.req('POST', d.refreshUrl, { headers: { 'sec-secure-session-id': '"someone-else"' } });
      assert.equal(wrongId.status, 200);
      assert.deepEqual(wrongId.body, { continue: false });
      const out = await d.client.req('POST', '/auth/logout', { json: {} });
      assert.equal(out.status, 204);
      assert.ok(out.headers.getSetCookie().some((c) => c.startsWith(`${BOUND}=;`) && /Max-Age=0/.test(c)), 'logout clears the bound cookie too');
      const ended = await d.client.req('POST', d.refreshUrl, { headers: { 'sec-secure-session-id': `"${d.sessionId}"` } });
      assert.deepEqual(ended.body, { continue: false });
      const noId = await d.client.req('POST', d.refreshUrl);
      assert.equal(noId.status, 400);
    });

    test('an unbound cookie session keeps working without any bound cookie (browsers without DBSC)', async () => {
      const { client } = await cookieLogin(t);
      t.clock.advance(TTL + 1000);
      assert.equal((await client.req('GET', '/auth/me')).status, 200);
    });
  });
}

describe('DBSC off', () => {
  let t: TestServer;
  let on: TestServer;
  before(async () => {
    on = await startPopServer();
    // The same deployment switched off: same stores (keys, sessions, marks), same clock.
    t = await startPopServer({ config: { dbsc: { mode: 'off' } }, stores: on.stores, clock: on.clock });
  });
  after(async () => {
    await t.close();
    await on.close();
  });

  test('sessions bound before the switch stay bound and keep refreshing; new ones are not offered', async () => {
    const d = await boundDevice(on);
    const there: Device = { ...d, client: new Client(t.url) };
    for (const [k, v] of d.client.jar) there.client.jar.set(k, v);
    assert.equal((await there.client.req('GET', '/auth/me')).status, 200);
    t.clock.advance(TTL + 1000);
    there.client.jar.delete(BOUND);
    assert.equal((await there.client.req('GET', '/auth/me')).status, 401, 'still bound');
    assert.equal((await refreshDevice(t, there)).second?.status, 200);
    assert.equal((await there.client.req('GET', '/auth/me')).status, 200);
  });

  test('no registration is offered and the endpoint is 404; an unbound session works as before', async () => {
    const { client, offer } = await cookieLogin(t);
    assert.equal(offer, null);
    const reg = await client.req('POST', '/auth/dbsc/register', { headers: { 'secure-session-response': '"x.y.z"' } });
    assert.equal(reg.status, 404);
    const ref = await client.req('POST', '/auth/dbsc/refresh', { headers: { 'sec-secure-session-id': '"x"' } });
    assert.deepEqual(ref.body, { continue: false });
    assert.equal((await client.req('GET', '/auth/me')).status, 200);
  });
});
