/**
 * DPoP (RFC 9449) in token mode, from the outside: a login with a proof binds the session to the
 * client's key, the access token carries `cnf.jkt`, resource requests need `Authorization: DPoP` with
 * a fresh proof of that key, and the refresh token is bound too. Every refusal is asserted by status,
 * problem code and `WWW-Authenticate`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { generateKeyPair } from 'jose';
import { register } from '../support/flows.js';
import { DpopKey, startPopServer } from '../support/pop.js';
import { Client, GOOD_PASSWORD, uniqueEmail, type TestServer } from '../support/server.js';
import { decode } from './token-kit.js';

const ALGS = 'algs="ES256 EdDSA"';

interface Bound {
  key: DpopKey;
  access: string;
  refresh: string;
  body: any;
}

async function dpopLogin(t: TestServer, key: DpopKey, email?: string): Promise<Bound & { status: number; headers: Headers }> {
  const e = email ?? uniqueEmail('dpop');
  if (!email) await register(t, e);
  const proof = await key.proof({ htm: 'POST', htu: `${t.url}/auth/login` });
  const r = await new Client(t.url).req('POST', '/auth/login', { json: { email: e, password: GOOD_PASSWORD, mode: 'token' }, headers: { dpop: proof } });
  return { key, status: r.status, headers: r.headers, body: r.body, access: r.body?.access_token, refresh: r.body?.refresh_token };
}

/** GET /auth/me as a DPoP client: `Authorization: DPoP`, a proof for that exact request (or `proof` as given). */
async function dpopMe(t: TestServer, b: { key: DpopKey; access: string }, proof?: string | null, opts: { scheme?: string; path?: string } = {}) {
  const path = opts.path ?? '/auth/me';
  const p = proof === undefined ? await b.key.proof({ htm: 'GET', htu: `${t.url}${path}`, accessToken: b.access }) : proof;
  return new Client(t.url).req('GET', path, { headers: { authorization: `${opts.scheme ?? 'DPoP'} ${b.access}`, ...(p === null ? {} : { dpop: p }) } });
}

function assertProofRefused(r: { status: number; headers: Headers; body: any; text: string }, what: string, code = 'invalid_dpop_proof') {
  assert.equal(r.status, 401, `${what}: ${r.status} ${r.text.slice(0, 300)}`);
  assert.equal(r.body.code, code, what);
  const wa = r.headers.get('www-authenticate') ?? '';
  assert.match(wa, new RegExp(`^DPoP error="${code}"`), `${what}: ${wa}`);
  assert.ok(wa.includes(ALGS), `${what}: ${wa}`);
}

function refreshWith(t: TestServer, token: string, proof?: string) {
  return new Client(t.url).req('POST', '/auth/refresh', { json: { refresh_token: token }, headers: proof ? { dpop: proof } : {} });
}

describe('DPoP: binding at login', () => {
  let t: TestServer;
  before(async () => {
    t = await startPopServer();
  });
  after(() => t.close());

  test('a token login with a proof answers token_type DPoP, and the access token carries cnf.jkt, the key thumbprint', async () => {
    const key = await DpopKey.create('ES256', () => t.clock.now());
    const b = await dpopLogin(t, key);
    assert.equal(b.status, 200, JSON.stringify(b.body));
    assert.equal(b.body.token_type, 'DPoP');
    assert.deepEqual(decode(b.access).payload.cnf, { jkt: key.jkt });
    assert.equal(b.body.session.binding, 'dpop');
    const stored = await t.stores.sessions.getSession(b.body.session.id, t.clock.now());
    assert.deepEqual(stored?.binding, { kind: 'dpop', jkt: key.jkt }, 'the store records the binding');
  });

  test('EdDSA keys bind too', async () => {
    const key = await DpopKey.create('EdDSA', () => t.clock.now());
    const b = await dpopLogin(t, key);
    assert.equal(b.status, 200);
    assert.deepEqual(decode(b.access).payload.cnf, { jkt: key.jkt });
    assert.equal((await dpopMe(t, b)).status, 200);
  });

  test('a login without a proof still gets plain bearer tokens (policy optional)', async () => {
    const email = uniqueEmail('plain');
    await register(t, email);
    const r = await new Client(t.url).req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD, mode: 'token' } });
    assert.equal(r.body.token_type, 'Bearer');
    assert.equal(decode(r.body.access_token).payload.cnf, undefined);
    assert.equal(r.body.session.binding, null);
  });

  test('a login with a bad proof is refused with 400 invalid_dpop_proof before the password is checked', async () => {
    const key = await DpopKey.create('ES256', () => t.clock.now());
    const email = uniqueEmail('bad');
    await register(t, email);
    const failures = async () => (await t.stores.audit.listEvents({ limit: 1000 })).filter((e) => e.type === 'login.failed').length;
    const before = await failures();
    const proof = await key.proof({ htm: 'GET', htu: `${t.url}/auth/login` });
    const r = await new Client(t.url).req('POST', '/auth/login', { json: { email, password: 'wrong password entirely', mode: 'token' }, headers: { dpop: proof } });
    assert.equal(r.status, 400);
    assert.equal(r.body.code, 'invalid_dpop_proof');
    assert.equal(r.body.error, 'invalid_dpop_proof');
    assert.equal(await failures(), before, 'no password was checked');
  });

  test('a cookie login ignores DPoP (cookie sessions bind with DBSC)', async () => {
    const key = await DpopKey.create('ES256', () => t.clock.now());
    const email = uniqueEmail('cookie');
    await register(t, email);
    const proof = await key.proof({ htm: 'POST', htu: `${t.url}/auth/login` });
    const r = await new Client(t.url).req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD }, headers: { dpop: proof } });
    assert.equal(r.status, 200);
    assert.equal(r.body.session.binding, null);
  });
});

describe('DPoP: resource requests', () => {
  let t: TestServer;
  let b: Bound;
  before(async () => {
    t = await startPopServer();
    b = await dpopLogin(t, await DpopKey.create('ES256', () => t.clock.now()));
  });
  after(() => t.close());

  test('Authorization: DPoP with a fresh proof of the key is accepted; /auth/me shows the binding', async () => {
    const r = await dpopMe(t, b);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.session.binding, 'dpop');
    const list = await new Client(t.url).req('GET', '/auth/sessions', { headers: { authorization: `DPoP ${b.access}`, dpop: await b.key.proof({ htm: 'GET', htu: `${t.url}/auth/sessions`, accessToken: b.access }) } });
    assert.equal(list.status, 200);
    assert.equal(list.body.sessions.find((s: any) => s.current).binding, 'dpop');
  });

  test('the query string is not part of htu (RFC 9449 §4.3)', async () => {
    const proof = await b.key.proof({ htm: 'GET', htu: `${t.url}/auth/events?limit=1#x`, accessToken: b.access });
    const r = await new Client(t.url).req('GET', '/auth/events?limit=2', { headers: { authorization: `DPoP ${b.access}`, dpop: proof } });
    assert.equal(r.status, 200, r.text);
  });

  test('a bound token presented as Bearer is refused', async () => {
    const r = await new Client(t.url).req('GET', '/auth/me', { headers: { authorization: `Bearer ${b.access}` } });
    assert.equal(r.status, 401);
    assert.equal(r.body.code, 'invalid_token');
    // Also as Bearer with a valid proof attached: the scheme says what the token is.
    const proof = await b.key.proof({ htm: 'GET', htu: `${t.url}/auth/me`, accessToken: b.access });
    const r2 = await new Client(t.url).req('GET', '/auth/me', { headers: { authorization: `Bearer ${b.access}`, dpop: proof } });
    assert.equal(r2.status, 401);
  });

  test('a bound token without a proof, or with an empty one, is refused with invalid_dpop_proof', async () => {
    assertProofRefused(await dpopMe(t, b, null), 'no proof');
    assertProofRefused(await dpopMe(t, b, ''), 'empty proof');
  });

  test('an unbound token presented as DPoP is refused', async () => {
    const email = uniqueEmail('plain');
    await register(t, email);
    const plain = await new Client(t.url).req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD, mode: 'token' } });
    const key = await DpopKey.create('ES256', () => t.clock.now());
    const r = await dpopMe(t, { key, access: plain.body.access_token });
    assert.equal(r.status, 401);
    assert.equal(r.body.code, 'invalid_token');
    assert.match(r.headers.get('www-authenticate') ?? '', /^DPoP error="invalid_token"/);
  });

  test('a proof signed by another key (stolen token, thief key) is refused', async () => {
    const thief = await DpopKey.create('ES256', () => t.clock.now());
    assertProofRefused(await dpopMe(t, b, await thief.proof({ htm: 'GET', htu: `${t.url}/auth/me`, accessToken: b.access })), 'thief key');
  });

  test('a proof whose header shows the right key but whose signature is by another is refused', async () => {
    const other = await generateKeyPair('ES256');
    assertProofRefused(await dpopMe(t, b, await b.key.proof({ htm: 'GET', htu: `${t.url}/auth/me`, accessToken: b.access, signWith: other.privateKey })), 'forged signature');
  });

  test('htm, htu, iat, ath and jti are each checked', async () => {
    const u = `${t.url}/auth/me`;
    const now = Math.floor(t.clock.now() / 1000);
    const cases: Array<[string, Parameters<DpopKey['proof']>[0]]> = [
      ['wrong method', { htm: 'POST', htu: u, accessToken: b.access }],
      ['lower-case method', { htm: 'get', htu: u, accessToken: b.access }],
      ['another path', { htm: 'GET', htu: `${t.url}/auth/sessions`, accessToken: b.access }],
      ['another host', { htm: 'GET', htu: `http://evil.example:${t.port}/auth/me`, accessToken: b.access }],
      ['another scheme', { htm: 'GET', htu: u.replace('http:', 'https:'), accessToken: b.access }],
      ['htu not a URL', { htm: 'GET', htu: 'not a url', accessToken: b.access }],
      ['iat too old', { htm: 'GET', htu: u, accessToken: b.access, iat: now - 61 }],
      ['iat in the future', { htm: 'GET', htu: u, accessToken: b.access, iat: now + 61 }],
      ['iat missing', { htm: 'GET', htu: u, accessToken: b.access, claims: { iat: undefined } }],
      ['iat a string', { htm: 'GET', htu: u, accessToken: b.access, claims: { iat: String(now) } }],
      ['ath missing', { htm: 'GET', htu: u }],
      ['ath of another token', { htm: 'GET', htu: u, accessToken: `${b.access}x` }],
      ['jti missing', { htm: 'GET', htu: u, accessToken: b.access, claims: { jti: undefined } }],
      ['exp in the past', { htm: 'GET', htu: u, accessToken: b.access, claims: { exp: now - 10 } }],
    ];
    for (const [what, o] of cases) assertProofRefused(await dpopMe(t, b, await b.key.proof(o)), what);
    // And within the window either way, it passes.
    assert.equal((await dpopMe(t, b, await b.key.proof({ htm: 'GET', htu: u, accessToken: b.access, iat: now - 55 }))).status, 200);
    assert.equal((await dpopMe(t, b, await b.key.proof({ htm: 'GET', htu: u, accessToken: b.access, iat: now + 55 }))).status, 200);
  });

  test('a replayed proof (same jti) is refused, even at once', async () => {
    const proof = await b.key.proof({ htm: 'GET', htu: `${t.url}/auth/me`, accessToken: b.access });
    assert.equal((await dpopMe(t, b, proof)).status, 200);
    assertProofRefused(await dpopMe(t, b, proof), 'replay');
    const same = await b.key.proof({ htm: 'GET', htu: `${t.url}/auth/me`, accessToken: b.access, jti: 'fixed-id' });
    assert.equal((await dpopMe(t, b, same)).status, 200);
    assertProofRefused(await dpopMe(t, b, await b.key.proof({ htm: 'GET', htu: `${t.url}/auth/me`, accessToken: b.access, jti: 'fixed-id' })), 'a new proof reusing a jti');
  });

  test('malformed proofs are refused: typ, alg, private or foreign keys, embedded extras, bad encodings', async () => {
    const u = `${t.url}/auth/me`;
    const base = { htm: 'GET', htu: u, accessToken: b.access };
    const priv = await b.key.privateJwk();
    const ed = await DpopKey.create('EdDSA');
    const cases: Array<[string, Promise<string> | string]> = [
      ['typ JWT', b.key.proof({ ...base, header: { typ: 'JWT' } })],
      ['no typ', b.key.proof({ ...base, header: { typ: undefined } })],
      ['no jwk', b.key.proof({ ...base, header: { jwk: undefined } })],
      ['private key in jwk', b.key.proof({ ...base, header: { jwk: priv } })],
      ['jwk of another curve', b.key.proof({ ...base, header: { jwk: ed.jwk } })],
      ['a kid naming another key', b.key.proof({ ...base, header: { kid: 'k1' } })],
      ['a jku', b.key.proof({ ...base, header: { jku: 'https://evil.example/jwks' } })],
      ['alg none', `${Buffer.from(JSON.stringify({ typ: 'dpop+jwt', alg: 'none', jwk: b.key.jwk })).toString('base64url')}.${Buffer.from(JSON.stringify({ htm: 'GET', htu: u, iat: Math.floor(t.clock.now() / 1000), jti: 'n' })).toString('base64url')}.`],
      ['two segments', 'abc.def'],
      ['not base64url', 'a+b.c/d.e=f'],
      ['garbage', 'x'.repeat(5000)],
    ];
    for (const [what, p] of cases) assertProofRefused(await dpopMe(t, b, await p), what);
    // An HS256 "proof" keyed with the public x coordinate.
    const hs = await (async () => {
      const { SignJWT } = await import('jose');
      return new SignJWT({ htm: 'GET', htu: u, iat: Math.floor(t.clock.now() / 1000), jti: 'hs', ath: '' })
        .setProtectedHeader({ typ: 'dpop+jwt', alg: 'HS256', jwk: b.key.jwk } as never)
        .sign(Buffer.from(String(b.key.jwk.x)));
    })();
    assertProofRefused(await dpopMe(t, b, hs), 'HS256');
    // A signature changed in one character.
    const good = await b.key.proof(base);
    const flipped = good.slice(0, -2) + (good.at(-2) === 'A' ? 'B' : 'A') + good.at(-1);
    assertProofRefused(await dpopMe(t, b, flipped), 'tampered signature');
    // Two DPoP headers.
    const two = await fetch(`${t.url}/auth/me`, { headers: [['authorization', `DPoP ${b.access}`], ['dpop', await b.key.proof(base)], ['dpop', await b.key.proof(base)]] });
    assert.equal(two.status, 401);
    assert.equal((await two.json()).code, 'invalid_dpop_proof');
  });

  test('logout works with a DPoP token, and the token stops working', async () => {
    const mine = await dpopLogin(t, await DpopKey.create('ES256', () => t.clock.now()));
    const out = await new Client(t.url).req('POST', '/auth/logout', { json: {}, headers: { authorization: `DPoP ${mine.access}`, dpop: await mine.key.proof({ htm: 'POST', htu: `${t.url}/auth/logout`, accessToken: mine.access }) } });
    assert.equal(out.status, 204, out.text);
    const r = await dpopMe(t, mine);
    assert.equal(r.status, 401);
    assert.equal(r.body.code, 'invalid_token');
  });
});

describe('DPoP: bound refresh tokens', () => {
  let t: TestServer;
  before(async () => {
    t = await startPopServer();
  });
  after(() => t.close());

  const proofFor = (key: DpopKey) => key.proof({ htm: 'POST', htu: `${t.url}/auth/refresh` });

  test('a refresh with a proof of the same key gets new DPoP-bound tokens', async () => {
    const b = await dpopLogin(t, await DpopKey.create('ES256', () => t.clock.now()));
    t.clock.advance(1000);
    const r = await refreshWith(t, b.refresh, await proofFor(b.key));
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.token_type, 'DPoP');
    assert.deepEqual(decode(r.body.access_token).payload.cnf, { jkt: b.key.jkt });
    assert.equal((await dpopMe(t, { key: b.key, access: r.body.access_token })).status, 200);
  });

  test('a stolen refresh token without the key is refused (400 invalid_dpop_proof), audited, and not spent', async () => {
    const b = await dpopLogin(t, await DpopKey.create('ES256', () => t.clock.now()));
    const thief = await DpopKey.create('ES256', () => t.clock.now());
    const none = await refreshWith(t, b.refresh);
    assert.equal(none.status, 400);
    assert.equal(none.body.code, 'invalid_dpop_proof');
    assert.equal(none.body.error, 'invalid_dpop_proof');
    assert.equal(none.body.access_token, undefined);
    const other = await refreshWith(t, b.refresh, await proofFor(thief));
    assert.equal(other.status, 400);
    assert.equal(other.body.error, 'invalid_dpop_proof');
    const events = await t.stores.audit.listEvents({ userId: decode(b.access).payload.sub, limit: 20 });
    const refused = events.filter((e) => e.type === 'session.proof_refused');
    assert.deepEqual(refused.map((e) => e.detail?.reason).sort(), ['no_proof', 'wrong_key']);
    assert.ok(refused.every((e) => e.sessionId === b.body.session.id && e.detail?.via === 'refresh'));
    // The owner's next refresh still works: the thief's attempts spent nothing.
    const ok = await refreshWith(t, b.refresh, await proofFor(b.key));
    assert.equal(ok.status, 200, ok.text);
  });

  test('a refresh proof for the wrong URI or method is refused before the token is looked at', async () => {
    const b = await dpopLogin(t, await DpopKey.create('ES256', () => t.clock.now()));
    const r = await refreshWith(t, b.refresh, await b.key.proof({ htm: 'POST', htu: `${t.url}/auth/login` }));
    assert.equal(r.status, 400);
    assert.equal(r.body.error, 'invalid_dpop_proof');
    assert.equal((await refreshWith(t, b.refresh, await proofFor(b.key))).status, 200);
  });

  test('an unbound session refreshed with a proof stays unbound (token_type Bearer)', async () => {
    const email = uniqueEmail('plain');
    await register(t, email);
    const plain = await new Client(t.url).req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD, mode: 'token' } });
    const key = await DpopKey.create('ES256', () => t.clock.now());
    const r = await refreshWith(t, plain.body.refresh_token, await proofFor(key));
    assert.equal(r.status, 200);
    assert.equal(r.body.token_type, 'Bearer');
    assert.equal(decode(r.body.access_token).payload.cnf, undefined);
  });
});

describe('DPoP policy: required and off', () => {
  let req: TestServer;
  let off: TestServer;
  before(async () => {
    req = await startPopServer({ config: { dpop: { mode: 'required' } } });
    off = await startPopServer({ config: { dpop: { mode: 'off' } } });
  });
  after(async () => {
    await req.close();
    await off.close();
  });

  test('required: a token login without a proof is refused; with one it is bound', async () => {
    const email = uniqueEmail('req');
    await register(req, email);
    const r = await new Client(req.url).req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD, mode: 'token' } });
    assert.equal(r.status, 400);
    assert.equal(r.body.error, 'invalid_dpop_proof');
    const b = await dpopLogin(req, await DpopKey.create('ES256', () => req.clock.now()), email);
    assert.equal(b.body.token_type, 'DPoP');
    assert.equal((await dpopMe(req, b)).status, 200);
  });

  test('required: cookie logins are not affected', async () => {
    const email = uniqueEmail('req');
    await register(req, email);
    const c = new Client(req.url);
    assert.equal((await c.req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD } })).status, 200);
    assert.equal((await c.req('GET', '/auth/me')).status, 200);
  });

  test('off: a proof at login is ignored and the tokens are plain bearer tokens', async () => {
    const b = await dpopLogin(off, await DpopKey.create('ES256', () => off.clock.now()));
    assert.equal(b.status, 200);
    assert.equal(b.body.token_type, 'Bearer');
    const r = await new Client(off.url).req('GET', '/auth/me', { headers: { authorization: `Bearer ${b.access}` } });
    assert.equal(r.status, 200);
  });
});

describe('DPoP server nonces', () => {
  let t: TestServer;
  before(async () => {
    t = await startPopServer({ config: { dpop: { nonce: true } } });
  });
  after(() => t.close());

  test('a login proof without a nonce gets 400 use_dpop_nonce and a DPoP-Nonce; the retry with it succeeds', async () => {
    const key = await DpopKey.create('ES256', () => t.clock.now());
    const email = uniqueEmail('nonce');
    await register(t, email);
    const login = (proof: string) => new Client(t.url).req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD, mode: 'token' }, headers: { dpop: proof } });
    const first = await login(await key.proof({ htm: 'POST', htu: `${t.url}/auth/login` }));
    assert.equal(first.status, 400);
    assert.equal(first.body.error, 'use_dpop_nonce');
    const nonce = first.headers.get('dpop-nonce');
    assert.ok(nonce, 'DPoP-Nonce');
    const bad = await login(await key.proof({ htm: 'POST', htu: `${t.url}/auth/login`, nonce: `${nonce}x` }));
    assert.equal(bad.body.error, 'use_dpop_nonce', 'an unknown nonce');
    const ok = await login(await key.proof({ htm: 'POST', htu: `${t.url}/auth/login`, nonce: nonce! }));
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.body.token_type, 'DPoP');
    assert.equal(ok.headers.get('dpop-nonce'), nonce);

    // Resource requests need it too: 401 use_dpop_nonce with the nonce, then success.
    const access = ok.body.access_token as string;
    const noNonce = await dpopMe(t, { key, access });
    assertProofRefused(noNonce, 'no nonce', 'use_dpop_nonce');
    assert.equal(noNonce.headers.get('dpop-nonce'), nonce);
    const good = await dpopMe(t, { key, access }, await key.proof({ htm: 'GET', htu: `${t.url}/auth/me`, accessToken: access, nonce: nonce! }));
    assert.equal(good.status, 200, good.text);
    assert.equal(good.headers.get('dpop-nonce'), nonce);
  });

  test('a nonce expires: after its lifetime it is refused and a new one is handed out', async () => {
    const key = await DpopKey.create('ES256', () => t.clock.now());
    const email = uniqueEmail('nonce');
    await register(t, email);
    const first = await new Client(t.url).req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD, mode: 'token' }, headers: { dpop: await key.proof({ htm: 'POST', htu: `${t.url}/auth/login` }) } });
    const nonce = first.headers.get('dpop-nonce')!;
    t.clock.advance(11 * 60_000);
    const late = await new Client(t.url).req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD, mode: 'token' }, headers: { dpop: await key.proof({ htm: 'POST', htu: `${t.url}/auth/login`, nonce }) } });
    assert.equal(late.body.error, 'use_dpop_nonce');
    assert.notEqual(late.headers.get('dpop-nonce'), nonce);
  });
});
