/** Signing-key rotation and retirement, and private keys sealed at rest when a secret is configured. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client, startTestServer, type TestServer } from '../support/server.js';
import { assertInvalidToken, decode, me, refresh, tokenLogin } from './token-kit.js';

describe('key rotation', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(() => t.close());

  test('after a rotation old tokens still verify, new tokens use the new kid, and the JWKS lists both', async () => {
    const before = await tokenLogin(t);
    const oldKid = decode(before.access).header.kid;
    assert.equal((await me(t, before.access)).status, 200);

    const rec = await t.srv.gatehouse.core.admin.rotateKey();
    assert.notEqual(rec.kid, oldKid);
    assert.equal((await me(t, before.access)).status, 200, 'old token keeps working');

    const afterLogin = await tokenLogin(t);
    assert.equal(decode(afterLogin.access).header.kid, rec.kid);
    assert.equal((await me(t, afterLogin.access)).status, 200);
    const refreshed = await refresh(t, before.refresh);
    assert.equal(decode(refreshed.body.access_token).header.kid, rec.kid, 'refresh signs with the new key');

    const jwks = await new Client(t.url).req('GET', '/.well-known/jwks.json');
    assert.deepEqual(jwks.body.keys.map((k: any) => k.kid).sort(), [oldKid, rec.kid].sort());
  });

  test('retiring a key immediately makes tokens it signed fail at once, even ones already verified', async () => {
    const old = await tokenLogin(t);
    const oldKid = decode(old.access).header.kid as string;
    assert.equal((await me(t, old.access)).status, 200, 'verified once (and cached)');
    const rec = await t.srv.gatehouse.core.admin.rotateKey();
    assert.equal((await me(t, old.access)).status, 200);
    assert.equal(await t.srv.gatehouse.core.admin.retireKey(oldKid, true), true);
    assertInvalidToken(await me(t, old.access), 'token of the retired key');
    const jwks = await new Client(t.url).req('GET', '/.well-known/jwks.json');
    assert.ok(!jwks.body.keys.some((k: any) => k.kid === oldKid), 'the retired key left the JWKS');
    const fresh = await tokenLogin(t);
    assert.equal(decode(fresh.access).header.kid, rec.kid);
    assert.equal((await me(t, fresh.access)).status, 200);
  });

  test('a rotated-out key stops verifying once its verify window has passed', async () => {
    const old = await tokenLogin(t);
    const oldKid = decode(old.access).header.kid;
    await t.srv.gatehouse.core.admin.rotateKey();
    t.clock.advance(60 * 60_000 + 1000); // past the longest token life (max age 1 h)
    assertInvalidToken(await me(t, old.access), 'expired anyway');
    const jwks = await new Client(t.url).req('GET', '/.well-known/jwks.json');
    assert.ok(!jwks.body.keys.some((k: any) => k.kid === oldKid));
  });
});

describe('private keys at rest', () => {
  const secret = 'a-test-secret-that-is-at-least-32-characters-long';

  test('are sealed when a secret is configured: encrypted, no private "d" in the stored text, and tokens still work', async () => {
    const t = await startTestServer({ config: { secret } });
    try {
      const keys = await t.stores.keys.listKeys();
      assert.equal(keys.length, 1);
      const k = keys[0]!;
      assert.equal(k.encrypted, true);
      assert.doesNotMatch(k.privateJwk, /"d"/);
      assert.doesNotMatch(k.privateJwk, /"kty"/);
      const pub = JSON.parse(k.publicJwk!);
      assert.doesNotMatch(k.privateJwk, new RegExp(pub.x));
      const r = await tokenLogin(t);
      assert.equal((await me(t, r.access)).status, 200);
    } finally {
      await t.close();
    }
  });

  test('HS256 secrets are sealed too', async () => {
    const t = await startTestServer({ config: { secret, token: { alg: 'HS256' } } });
    try {
      const k = (await t.stores.keys.listKeys())[0]!;
      assert.equal(k.encrypted, true);
      assert.equal(k.publicJwk, null);
      assert.doesNotMatch(k.privateJwk, /"k"/);
    } finally {
      await t.close();
    }
  });

  test('are stored as plain JWK text without a secret (then the store file must be owner-only)', async () => {
    const t = await startTestServer();
    try {
      const k = (await t.stores.keys.listKeys())[0]!;
      assert.equal(k.encrypted, false);
      assert.match(k.privateJwk, /"d"/);
    } finally {
      await t.close();
    }
  });
});
