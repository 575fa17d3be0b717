/**
 * The RFC 8725 / OWASP JWT attack catalogue, black-box over HTTP. Every forged or malformed token gets
 * 401 with `WWW-Authenticate: Bearer error="invalid_token"` and a problem+json body; none gets a 500.
 * Claim cases are signed with the server's own private key, so only the claim is wrong.
 */
import assert from 'node:assert/strict';
import { createHmac, createPrivateKey, createPublicKey, generateKeyPairSync, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { Client, startTestServer, type TestServer } from '../support/server.js';
import { assertInvalidToken, b64, decode, me, tokenLogin } from './token-kit.js';

type Json = Record<string, unknown>;

/** Signs header.payload by hand, so headers jose would refuse to produce (crit, jku, …) can be sent. */
function rawSign(header: Json, payload: Json, alg: 'EdDSA' | 'HS256' | 'ES256', key: KeyObject | Buffer): string {
  const input = `${b64(header)}.${b64(payload)}`;
  let sig: Buffer;
  if (alg === 'HS256') sig = createHmac('sha256', key as Buffer).update(input).digest();
  else if (alg === 'EdDSA') sig = cryptoSign(null, Buffer.from(input), key as KeyObject);
  else sig = cryptoSign('sha256', Buffer.from(input), { key: key as KeyObject, dsaEncoding: 'ieee-p1363' });
  return `${input}.${sig.toString('base64url')}`;
}

function relabel(token: string, changes: Json): string {
  const [h, p, s] = token.split('.');
  const header = { ...JSON.parse(Buffer.from(h!, 'base64url').toString()), ...changes };
  return `${b64(header)}.${p}.${s}`;
}

describe('JWT attack catalogue (EdDSA server)', () => {
  let t: TestServer;
  let good: string;
  let kid: string;
  let serverKey: KeyObject;
  let claims: Json;
  let listener: Server;
  let listenerHits = 0;
  let listenerUrl = '';

  before(async () => {
    t = await startTestServer();
    const login = await tokenLogin(t);
    good = login.access;
    const d = decode(good);
    kid = d.header.kid as string;
    claims = d.payload;
    const rec = (await t.stores.keys.listKeys()).find((k) => k.kid === kid)!;
    serverKey = createPrivateKey({ key: JSON.parse(rec.privateJwk), format: 'jwk' });
    listener = createServer((_req, res) => {
      listenerHits++;
      res.end('{"keys":[]}');
    });
    await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
    listenerUrl = `http://127.0.0.1:${(listener.address() as AddressInfo).port}`;
  });
  after(async () => {
    await t.close();
    await new Promise((r) => listener.close(r));
  });

  const expectRefused = async (token: string, what: string) => assertInvalidToken(await me(t, token), what);
  const now = () => Math.floor(t.clock.now() / 1000);
  const serverSigned = (payload: Json, header: Json = {}) => rawSign({ alg: 'EdDSA', kid, typ: 'at+jwt', ...header }, payload, 'EdDSA', serverKey);

  test('control: the genuine token and a hand-signed copy of its claims are accepted', async () => {
    assert.equal((await me(t, good)).status, 200);
    assert.equal((await me(t, serverSigned({ ...claims, jti: 'hand-signed' }))).status, 200);
  });

  test('alg "none" in every casing, with and without a signature', async () => {
    const [, p, s] = good.split('.');
    for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
      for (const withKid of [true, false]) {
        const h = b64({ alg, typ: 'at+jwt', ...(withKid ? { kid } : {}) });
        await expectRefused(`${h}.${p}.`, `${alg} empty signature`);
        await expectRefused(`${h}.${p}.${s}`, `${alg} with the original signature`);
        await expectRefused(`${h}.${p}`, `${alg} two segments`);
      }
    }
  });

  test('a stripped signature', async () => {
    const [h, p] = good.split('.');
    await expectRefused(`${h}.${p}.`, 'empty signature');
    await expectRefused(`${h}.${p}`, 'two segments');
  });

  test('a tampered payload (sub changed) under the original signature', async () => {
    const [h, , s] = good.split('.');
    await expectRefused(`${h}.${b64({ ...claims, sub: 'someone-else' })}.${s}`, 'sub changed');
    await expectRefused(`${h}.${b64({ ...claims, exp: (claims.exp as number) + 3600 })}.${s}`, 'exp changed');
  });

  test('HS256 signed with the server public key as PEM, JWKS JSON, one JWK JSON and raw bytes', async () => {
    const jwksRes = await new Client(t.url).req('GET', '/.well-known/jwks.json');
    const jwk = jwksRes.body.keys.find((k: Json) => k.kid === kid);
    assert.ok(jwk, 'the public key is in the JWKS');
    const pub = createPublicKey({ key: jwk, format: 'jwk' });
    const secrets: Array<[string, Buffer]> = [
      ['PEM', Buffer.from(pub.export({ type: 'spki', format: 'pem' }) as string)],
      ['DER', pub.export({ type: 'spki', format: 'der' })],
      ['JWKS JSON', Buffer.from(jwksRes.text)],
      ['JWKS JSON re-serialised', Buffer.from(JSON.stringify(jwksRes.body))],
      ['one JWK JSON', Buffer.from(JSON.stringify(jwk))],
      ['raw bytes', Buffer.from(jwk.x, 'base64url')],
      ['x as text', Buffer.from(jwk.x)],
    ];
    for (const [what, secret] of secrets) {
      await expectRefused(rawSign({ alg: 'HS256', kid, typ: 'at+jwt' }, claims, 'HS256', secret), `HS256 with ${what}`);
    }
  });

  test('an EdDSA token relabelled ES256, ES384, RS256 or PS256', async () => {
    for (const alg of ['ES256', 'ES384', 'RS256', 'PS256', 'Ed25519', 'eddsa']) await expectRefused(relabel(good, { alg }), `relabelled ${alg}`);
  });

  test('an embedded jwk header carrying an attacker key, signed by it', async () => {
    const attacker = generateKeyPairSync('ed25519');
    const jwk = attacker.publicKey.export({ format: 'jwk' });
    await expectRefused(rawSign({ alg: 'EdDSA', typ: 'at+jwt', jwk }, claims, 'EdDSA', attacker.privateKey), 'jwk without kid');
    await expectRefused(rawSign({ alg: 'EdDSA', typ: 'at+jwt', kid, jwk }, claims, 'EdDSA', attacker.privateKey), 'jwk with server kid');
    await expectRefused(rawSign({ alg: 'EdDSA', typ: 'at+jwt', kid: 'attacker', jwk: { ...jwk, kid: 'attacker' } }, claims, 'EdDSA', attacker.privateKey), 'jwk with own kid');
  });

  test('jku, x5u and x5c headers are refused and the jku/x5u URL is never fetched', async () => {
    const attacker = generateKeyPairSync('ed25519');
    const cases: Array<[string, Json]> = [
      ['jku', { jku: `${listenerUrl}/jwks.json` }],
      ['jku unknown kid', { jku: `${listenerUrl}/jwks.json`, kid: 'attacker' }],
      ['x5u', { x5u: `${listenerUrl}/cert.pem` }],
      ['x5u unknown kid', { x5u: `${listenerUrl}/cert.pem`, kid: 'attacker' }],
      ['x5c', { x5c: ['MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA'] }],
    ];
    for (const [what, extra] of cases) {
      await expectRefused(rawSign({ alg: 'EdDSA', typ: 'at+jwt', kid, ...extra }, claims, 'EdDSA', attacker.privateKey), `${what} (attacker-signed)`);
      await expectRefused(serverSigned(claims, extra), `${what} (server-signed)`);
    }
    assert.equal(listenerHits, 0, 'the key URL received no request');
  });

  test('kid values carrying path traversal or SQL', async () => {
    for (const evil of ['../../etc/passwd', '../../../../../../dev/null', "' OR 1=1--", "x' UNION SELECT 'secret'--", '/dev/null', 'a'.repeat(65)]) {
      await expectRefused(serverSigned(claims, { kid: evil }), `server-signed, kid ${evil}`);
      await expectRefused(rawSign({ alg: 'HS256', kid: evil, typ: 'at+jwt' }, claims, 'HS256', Buffer.alloc(0)), `HS256 empty key, kid ${evil}`);
      await expectRefused(rawSign({ alg: 'HS256', kid: evil, typ: 'at+jwt' }, claims, 'HS256', Buffer.from('1')), `HS256 "1", kid ${evil}`);
    }
  });

  test('a crit header', async () => {
    await expectRefused(serverSigned(claims, { crit: ['exp'] }), 'crit exp');
    await expectRefused(serverSigned(claims, { crit: ['x-custom'], 'x-custom': true }), 'crit custom');
    await expectRefused(serverSigned(claims, { crit: [] }), 'crit empty');
  });

  test('claims: expired, nbf or iat in the future, missing exp, exp far ahead, wrong aud, iss or typ', async () => {
    const n = now();
    const cases: Array<[string, Json, Json?]> = [
      ['expired', { ...claims, iat: n - 700, exp: n - 100 }],
      ['nbf in the future', { ...claims, nbf: n + 3600 }],
      ['iat in the future', { ...claims, iat: n + 3600, exp: n + 3600 + 600 }],
      ['iat slightly beyond skew', { ...claims, iat: n + 120, exp: n + 120 + 600 }],
      ['missing exp', (({ exp: _e, ...rest }) => rest)(claims)],
      ['missing iat', (({ iat: _i, ...rest }) => rest)(claims)],
      ['missing sid', (({ sid: _s, ...rest }) => rest)(claims)],
      ['missing jti', (({ jti: _j, ...rest }) => rest)(claims)],
      ['missing sub', (({ sub: _s, ...rest }) => rest)(claims)],
      ['exp far in the future', { ...claims, exp: n + 365 * 86_400 }],
      ['older than the max age', { ...claims, iat: n - 7200, exp: n + 60 }],
      ['wrong aud', { ...claims, aud: 'another-api' }],
      ['aud array without ours', { ...claims, aud: ['another-api'] }],
      ['wrong iss', { ...claims, iss: 'https://evil.example' }],
      ['iss with trailing slash', { ...claims, iss: `${claims.iss}/` }],
      ['sub not a string', { ...claims, sub: 42 }],
      ['typ JWT', claims, { typ: 'JWT' }],
      ['typ missing', claims, { typ: undefined }],
      ['typ application/at+jwt is the long form; anything else is wrong', claims, { typ: 'id+jwt' }],
    ];
    for (const [what, payload, header] of cases) await expectRefused(serverSigned(payload, header ?? {}), what);
  });

  test('tokens of a disabled user', async () => {
    const r = await tokenLogin(t);
    assert.equal((await me(t, r.access)).status, 200);
    await t.srv.gatehouse.core.admin.setDisabled(r.body.user.id, true);
    await expectRefused(r.access, 'disabled user');
    await t.srv.gatehouse.core.admin.setDisabled(r.body.user.id, false);
    await expectRefused(r.access, 'a re-enabled user does not revive old sessions');
  });

  test('tokens of a deleted user, including a freshly signed one naming its session', async () => {
    const r = await tokenLogin(t);
    const c = decode(r.access).payload;
    assert.equal((await me(t, r.access)).status, 200);
    await t.srv.gatehouse.core.admin.deleteUser(r.body.user.id);
    await expectRefused(r.access, 'deleted user');
    await expectRefused(serverSigned({ ...c, jti: 'fresh' }), 'deleted user, new jti');
  });

  test('malformed tokens: padding, 4 and 5 segments, a JWE, empty segments, bad base64 and JSON', async () => {
    const [h, p, s] = good.split('.');
    const cases: Array<[string, string]> = [
      ['padding on the signature', `${good}=`],
      ['padding on the signature (2)', `${good}==`],
      ['padding inside', `${h}=.${p}.${s}`],
      ['4 segments', `${good}.${s}`],
      ['5 segments', `${good}.${s}.${s}`],
      ['JWE', `${b64({ alg: 'dir', enc: 'A256GCM', kid })}..${b64('iv-iv-iv-iv')}.${b64('ciphertext')}.${b64('tag-tag-tag-tag')}`],
      ['JWE RSA-OAEP', `${b64({ alg: 'RSA-OAEP-256', enc: 'A128GCM', kid })}.${b64('k')}.${b64('iv')}.${b64('ct')}.${b64('tag')}`],
      ['empty header', `.${p}.${s}`],
      ['empty payload', `${h}..${s}`],
      ['header not JSON', `${b64('not json')}.${p}.${s}`],
      ['header a JSON array', `${b64([1, 2])}.${p}.${s}`],
      ['payload not JSON', `${h}.${b64('nope')}.${s}`],
      ['one segment', 'abc'],
    ];
    for (const [what, token] of cases) await expectRefused(token, what);
    await expectRefused(`${h}.${p}.${s}`.replace(/.$/, (ch) => (ch === 'A' ? 'B' : 'A')), 'one signature character changed');
  });

  test('an oversized header: 12 KB gets 401; 64 KB is cut off by the 16 KB header limit with 431, never 500', async () => {
    const [, p, s] = good.split('.');
    const mid = `${b64({ alg: 'EdDSA', kid, typ: 'at+jwt', pad: 'x'.repeat(9 * 1024) })}.${p}.${s}`;
    await expectRefused(mid, '12 KB header');
    const huge = `${b64({ alg: 'EdDSA', kid, typ: 'at+jwt', pad: 'x'.repeat(48 * 1024) })}.${p}.${s}`;
    assert.ok(huge.length > 64 * 1024);
    const r = await fetch(`${t.url}/auth/me`, { headers: { authorization: `Bearer ${huge}` } });
    assert.equal(r.status, 431);
    await r.arrayBuffer();
    assert.equal((await me(t, good)).status, 200, 'the server is still up');
  });

  test('Authorization values that are not a bearer token are invalid_token, not a crash', async () => {
    for (const v of ['Bearer', 'Bearer ', `Bearer ${good} extra`, `Basic ${b64('a:b')}`, `Bearer\t${good}`]) {
      const r = await new Client(t.url).req('GET', '/auth/me', { headers: { authorization: v } });
      assertInvalidToken(r, JSON.stringify(v.slice(0, 20)));
    }
  });

  test('a bearer token in the query string is ignored', async () => {
    const r = await new Client(t.url).req('GET', `/auth/me?access_token=${encodeURIComponent(good)}`);
    assert.equal(r.status, 401);
    assert.equal(r.body.code, 'unauthenticated');
    const body = await new Client(t.url).req('POST', `/auth/logout?access_token=${encodeURIComponent(good)}`);
    assert.equal(body.status, 401);
    assert.equal((await me(t, good)).status, 200, 'the token was not used to log out');
  });
});

describe('JWT attack catalogue (ES256 server)', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ config: { token: { alg: 'ES256' } } });
  });
  after(() => t.close());

  test('an ES256 token relabelled within the asymmetric family, or as EdDSA or HS256', async () => {
    const { access } = await tokenLogin(t);
    assert.equal((await me(t, access)).status, 200);
    for (const alg of ['ES384', 'ES512', 'ES256K', 'EdDSA', 'RS256', 'PS256', 'HS256', 'none']) {
      assertInvalidToken(await me(t, relabel(access, { alg })), `relabelled ${alg}`);
    }
  });

  test('HS256 signed with the ES256 public key (PEM and JWK) is refused', async () => {
    const { access } = await tokenLogin(t);
    const d = decode(access);
    const jwks = await new Client(t.url).req('GET', '/.well-known/jwks.json');
    const jwk = jwks.body.keys[0];
    const pem = createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' }) as string;
    for (const secret of [Buffer.from(pem), Buffer.from(JSON.stringify(jwk)), Buffer.from(jwks.text)]) {
      assertInvalidToken(await me(t, rawSign({ ...d.header, alg: 'HS256' }, d.payload, 'HS256', secret)), 'HS256 with ES256 public key');
    }
  });

  test('an EdDSA-signed token claiming the ES256 kid is refused', async () => {
    const { access } = await tokenLogin(t);
    const d = decode(access);
    const attacker = generateKeyPairSync('ed25519');
    assertInvalidToken(await me(t, rawSign({ ...d.header, alg: 'EdDSA' }, d.payload, 'EdDSA', attacker.privateKey)), 'EdDSA under ES256 kid');
  });
});
