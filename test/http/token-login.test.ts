/** Token login, the access-token profile (RFC 9068), the claims hook, algorithms, JWKS and discovery. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { Client, startTestServer, uniqueEmail, type TestServer } from '../support/server.js';
import { decode, me, registerUser, tokenLogin } from './token-kit.js';

describe('token login', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(() => t.close());

  test('answers 200 with a bearer grant, no-store and no cookie', async () => {
    const r = await tokenLogin(t);
    assert.equal(r.status, 200);
    assert.equal(typeof r.body.access_token, 'string');
    assert.equal(r.body.token_type, 'Bearer');
    assert.equal(r.body.expires_in, 600);
    assert.equal(typeof r.body.refresh_token, 'string');
    assert.equal(r.body.user.email, r.email);
    assert.equal(r.headers.get('cache-control'), 'no-store');
    assert.deepEqual(r.headers.getSetCookie(), []);
  });

  test('creates a session record of mode token in the same store as cookie sessions', async () => {
    const r = await tokenLogin(t);
    const { payload } = decode(r.access);
    const rec = await t.stores.sessions.getSession(payload.sid, t.clock.now());
    assert.ok(rec, 'session record exists');
    assert.equal(rec.mode, 'token');
    assert.equal(rec.userId, payload.sub);
    const list = await new Client(t.url).req('GET', '/auth/sessions', { bearer: r.access });
    assert.equal(list.status, 200);
    assert.deepEqual(list.body.sessions.map((s: any) => [s.id, s.mode, s.current]), [[payload.sid, 'token', true]]);
  });

  test('refresh_transport "cookie" puts the refresh token in an HttpOnly Secure cookie scoped to /auth/refresh, not in the body', async () => {
    const r = await tokenLogin(t, { extra: { refresh_transport: 'cookie' } });
    assert.equal(r.status, 200);
    assert.equal(r.body.refresh_token, undefined);
    const cookies = r.headers.getSetCookie();
    assert.equal(cookies.length, 1);
    const c = cookies[0]!;
    assert.match(c, /; HttpOnly/);
    assert.match(c, /; Secure/);
    assert.match(c, /; Path=\/auth\/refresh(;|$)/);
    assert.match(c, /; SameSite=Strict/);
    const value = c.split(';')[0]!.split('=').slice(1).join('=');
    assert.ok(value.length > 30, 'cookie carries the refresh token');

    const refreshed = await r.client.req('POST', '/auth/refresh', { json: {} });
    assert.equal(refreshed.status, 200, refreshed.text);
    assert.equal(refreshed.body.refresh_token, undefined, 'successor also stays in the cookie');
    assert.equal((await me(t, refreshed.body.access_token)).status, 200);
    const next = refreshed.headers.getSetCookie()[0]!;
    assert.notEqual(next.split(';')[0], c.split(';')[0], 'the cookie now holds the successor');
  });
});

describe('access tokens', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({
      config: { token: { maxBytes: 1024 } },
      claims: (user) => {
        if (user.email.startsWith('reserved')) return { sub: 'admin', role: 'admin' };
        if (user.email.startsWith('huge')) return { blob: 'x'.repeat(2000) };
        return { role: 'member' };
      },
    });
  });
  after(() => t.close());

  test('carry typ at+jwt and a kid in the header, and iss, aud, sub, sid, iat, exp, jti', async () => {
    const r = await tokenLogin(t);
    const { header, payload } = decode(r.access);
    assert.equal(header.typ, 'at+jwt');
    assert.equal(header.alg, 'EdDSA');
    const keys = await t.stores.keys.listKeys();
    assert.ok(keys.some((k) => k.kid === header.kid), 'kid names a key of the ring');
    assert.equal(payload.iss, 'http://localhost:3000');
    assert.equal(payload.aud, 'gatehouse');
    assert.equal(payload.sub, r.body.user.id);
    assert.equal(typeof payload.sid, 'string');
    assert.equal(typeof payload.jti, 'string');
    assert.equal(payload.iat, Math.floor(t.clock.now() / 1000));
    assert.equal(payload.exp - payload.iat, 600, 'default lifetime is 10 minutes');
  });

  test('every token gets its own jti', async () => {
    const email = await registerUser(t);
    const a = await tokenLogin(t, { email });
    const b = await tokenLogin(t, { email });
    assert.notEqual(decode(a.access).payload.jti, decode(b.access).payload.jti);
  });

  test('stop working once the 10-minute lifetime (plus skew) has passed', async () => {
    const r = await tokenLogin(t);
    assert.equal((await me(t, r.access)).status, 200);
    t.clock.advance(600_000 + 31_000);
    assert.equal((await me(t, r.access)).status, 401);
  });

  test('carry the application claims from the claims hook', async () => {
    const r = await tokenLogin(t);
    assert.equal(decode(r.access).payload.role, 'member');
  });

  test('a claims hook that sets a reserved claim makes the login fail closed with a generic 500', async () => {
    const email = await registerUser(t, uniqueEmail('reserved'));
    const r = await tokenLogin(t, { email });
    assert.equal(r.status, 500);
    assert.deepEqual(Object.keys(r.body).sort(), ['code', 'status', 'title', 'type']);
    assert.equal(r.body.code, 'internal');
    assert.doesNotMatch(JSON.stringify(r.body), /reserved|claim|sub/i);
    assert.equal(r.headers.getSetCookie().length, 0);
    assert.ok(t.logs.some((l) => l.includes('reserved claim') && l.includes('"level":50')), 'the operator sees why in the error log');
    const user = await t.stores.users.getUserByEmail(email.toLowerCase());
    assert.ok(user);
    assert.deepEqual(await t.stores.sessions.listSessionsByUser(user.id, t.clock.now()), [], 'the failed login leaves no session behind');
  });

  test('stay within maxBytes: a hook that would exceed it makes the login fail, small tokens pass', async () => {
    const ok = await tokenLogin(t);
    assert.ok(Buffer.byteLength(ok.access) <= 1024);
    const email = await registerUser(t, uniqueEmail('huge'));
    const r = await tokenLogin(t, { email });
    assert.equal(r.status, 500);
    assert.equal(r.body.code, 'internal');
    assert.equal(r.body.access_token, undefined);
  });
});

describe('signing algorithms', () => {
  for (const alg of ['EdDSA', 'ES256', 'RS256'] as const) {
    test(`${alg} tokens verify against the published JWKS`, async () => {
      const t = await startTestServer({ config: { token: { alg } } });
      try {
        const r = await tokenLogin(t);
        assert.equal(r.status, 200);
        assert.equal(decode(r.access).header.alg, alg);
        assert.equal((await me(t, r.access)).status, 200);
        const jwks = await new Client(t.url).req('GET', '/.well-known/jwks.json');
        assert.equal(jwks.body.keys.length, 1);
        for (const k of jwks.body.keys) {
          assert.equal(k.d, undefined, 'no private part');
          assert.equal(k.alg, alg);
        }
        const { payload } = await jwtVerify(r.access, createLocalJWKSet(jwks.body), {
          issuer: 'http://localhost:3000',
          audience: 'gatehouse',
          typ: 'at+jwt',
          currentDate: new Date(t.clock.now()),
        });
        assert.equal(payload.sub, r.body.user.id);
      } finally {
        await t.close();
      }
    });
  }

  test('HS256 tokens verify on the server and the JWKS never publishes the symmetric key', async () => {
    const t = await startTestServer({ config: { token: { alg: 'HS256' } } });
    try {
      const r = await tokenLogin(t);
      assert.equal(decode(r.access).header.alg, 'HS256');
      assert.equal((await me(t, r.access)).status, 200);
      const jwks = await new Client(t.url).req('GET', '/.well-known/jwks.json');
      assert.equal(jwks.status, 200);
      assert.deepEqual(jwks.body, { keys: [] });
      assert.doesNotMatch(jwks.text, /"k"/);
    } finally {
      await t.close();
    }
  });
});

describe('well-known documents', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ config: { publicUrl: 'https://auth.example.test' } });
  });
  after(() => t.close());

  test('the JWKS carries public keys only, with cache headers', async () => {
    const r = await new Client(t.url).req('GET', '/.well-known/jwks.json');
    assert.equal(r.status, 200);
    assert.match(r.headers.get('cache-control') ?? '', /max-age=\d+/);
    assert.equal(r.body.keys.length, 1);
    const k = r.body.keys[0];
    assert.deepEqual(Object.keys(k).sort(), ['alg', 'crv', 'kid', 'kty', 'use', 'x']);
    assert.equal(k.use, 'sig');
  });

  test('openid-configuration names the issuer and the jwks_uri', async () => {
    const r = await new Client(t.url).req('GET', '/.well-known/openid-configuration');
    assert.equal(r.status, 200);
    assert.equal(r.body.issuer, 'https://auth.example.test');
    assert.equal(r.body.jwks_uri, 'https://auth.example.test/.well-known/jwks.json');
    const tok = await tokenLogin(t);
    assert.equal(decode(tok.access).payload.iss, r.body.issuer, 'tokens carry the advertised issuer');
  });
});
