/** Ending sessions: DELETE /auth/sessions/:id, POST /auth/logout-others, POST /auth/logout-all, in both modes. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PasswordHasher } from '../../src/core/passwords.js';
import { MAX_USER_ID_LENGTH, RANDOM_ID_LENGTH } from '../../src/ids.js';
import { Client, GOOD_PASSWORD, startTestServer, uniqueEmail, type TestServer } from '../support/server.js';
import { bearerStatus, cookieLogin, cookieStatus, listIds, refreshStatus, register, tokenLogin } from '../support/flows.js';

describe('ending sessions', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(() => t.close());

  test('revoking a cookie session from a bearer session answers 204 and the cookie is refused at once', async () => {
    const email = uniqueEmail('rev1');
    await register(t, email);
    const laptop = await cookieLogin(t, email);
    const phone = await tokenLogin(t, email);
    assert.equal(await cookieStatus(laptop), 200); // validated and cached before the revocation
    const r = await new Client(t.url).req('DELETE', `/auth/sessions/${laptop.id}`, { bearer: phone.access });
    assert.equal(r.status, 204);
    assert.equal(await cookieStatus(laptop), 401);
    assert.deepEqual(await listIds(t, phone.access), [phone.id]);
  });

  test('revoking a token session from a cookie session kills its access token (401) and its refresh token (invalid_grant) at once', async () => {
    const email = uniqueEmail('rev2');
    await register(t, email);
    const laptop = await cookieLogin(t, email);
    const phone = await tokenLogin(t, email);
    assert.equal(await bearerStatus(t, phone), 200);
    const r = await laptop.client.req('DELETE', `/auth/sessions/${phone.id}`);
    assert.equal(r.status, 204);
    assert.equal(await bearerStatus(t, phone), 401);
    const refresh = await new Client(t.url).req('POST', '/auth/refresh', { json: { refresh_token: phone.refresh } });
    assert.equal(refresh.status, 400);
    assert.equal(refresh.body.error, 'invalid_grant');
    assert.equal(await cookieStatus(laptop), 200);
  });

  test('a user with the longest user id (64 characters) can end a session by its 86-character handle', async () => {
    const email = uniqueEmail('longid');
    const hasher = new PasswordHasher(t.srv.gatehouse.config.passwordHashing);
    // A user id from elsewhere (an imported account), as long as ids may name: 64 base64url characters.
    const id = 'U'.repeat(MAX_USER_ID_LENGTH - 6) + 'xY-_09';
    assert.ok(await t.stores.users.createUser({ id, email, emailCanonical: email, passwordHash: await hasher.hash(GOOD_PASSWORD), createdAt: t.clock.now(), disabledAt: null, emailVerifiedAt: null, credentialVersion: 0, admin: false }));
    const laptop = await cookieLogin(t, email);
    const phone = await tokenLogin(t, email);
    assert.equal(phone.id.length, RANDOM_ID_LENGTH + MAX_USER_ID_LENGTH);
    assert.ok(phone.id.endsWith(id), 'the handle names its user');
    const r = await laptop.client.req('DELETE', `/auth/sessions/${phone.id}`);
    assert.equal(r.status, 204, r.text);
    assert.equal(await bearerStatus(t, phone), 401);
    // One character longer than any id can be is still a plain 404.
    const tooLong = await laptop.client.req('DELETE', `/auth/sessions/${phone.id}x`);
    assert.equal(tooLong.status, 404);
    assert.equal(await cookieStatus(laptop), 200);
  });

  test('a session may end itself through DELETE in either mode', async () => {
    const email = uniqueEmail('self');
    await register(t, email);
    const laptop = await cookieLogin(t, email);
    const phone = await tokenLogin(t, email);
    assert.equal((await laptop.client.req('DELETE', `/auth/sessions/${laptop.id}`)).status, 204);
    assert.equal(await cookieStatus(laptop), 401);
    assert.equal((await new Client(t.url).req('DELETE', `/auth/sessions/${phone.id}`, { bearer: phone.access })).status, 204);
    assert.equal(await bearerStatus(t, phone), 401);
    assert.equal(await refreshStatus(t, phone), 400);
  });

  test("another user's handle and an unknown handle both get 404 with byte-identical bodies, and nothing is ended", async () => {
    const alice = uniqueEmail('alice');
    const bob = uniqueEmail('bob');
    await register(t, alice);
    await register(t, bob);
    const a = await cookieLogin(t, alice);
    const bCookie = await cookieLogin(t, bob);
    const bToken = await tokenLogin(t, bob);
    const other = await a.client.req('DELETE', `/auth/sessions/${bCookie.id}`);
    const otherToken = await a.client.req('DELETE', `/auth/sessions/${bToken.id}`);
    const unknownSameShape = bCookie.id.replace(/^./, (ch) => (ch === 'A' ? 'B' : 'A'));
    const unknown = await a.client.req('DELETE', `/auth/sessions/${unknownSameShape}`);
    const garbage = await a.client.req('DELETE', `/auth/sessions/${'x'.repeat(200)}`);
    for (const r of [other, otherToken, unknown, garbage]) {
      assert.equal(r.status, 404);
      assert.equal(r.headers.get('content-type'), other.headers.get('content-type'));
      assert.equal(r.text, other.text);
    }
    assert.equal(await cookieStatus(bCookie), 200);
    assert.equal(await bearerStatus(t, bToken), 200);
    // Same from a bearer caller.
    const aToken = await tokenLogin(t, alice);
    const viaBearer = await new Client(t.url).req('DELETE', `/auth/sessions/${bCookie.id}`, { bearer: aToken.access });
    assert.equal(viaBearer.status, 404);
    assert.equal(viaBearer.text, other.text);
  });

  test('a revoked handle cannot be revoked twice (404)', async () => {
    const email = uniqueEmail('twice');
    await register(t, email);
    const a = await cookieLogin(t, email);
    const b = await cookieLogin(t, email);
    assert.equal((await a.client.req('DELETE', `/auth/sessions/${b.id}`)).status, 204);
    assert.equal((await a.client.req('DELETE', `/auth/sessions/${b.id}`)).status, 404);
  });

  test('logout-others keeps the calling cookie session and ends every other session of both modes', async () => {
    const email = uniqueEmail('others1');
    await register(t, email);
    const keep = await cookieLogin(t, email);
    const c2 = await cookieLogin(t, email);
    const t1 = await tokenLogin(t, email);
    const t2 = await tokenLogin(t, email);
    const r = await keep.client.req('POST', '/auth/logout-others');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { revoked: 3 });
    assert.equal(await cookieStatus(keep), 200);
    assert.equal(await cookieStatus(c2), 401);
    for (const s of [t1, t2]) {
      assert.equal(await bearerStatus(t, s), 401);
      assert.equal(await refreshStatus(t, s), 400);
    }
    const list = await keep.client.req('GET', '/auth/sessions');
    assert.deepEqual((list.body.sessions as any[]).map((s) => s.id), [keep.id]);
  });

  test('logout-others from a bearer session keeps it (and its refresh token) and ends the rest', async () => {
    const email = uniqueEmail('others2');
    await register(t, email);
    const c1 = await cookieLogin(t, email);
    const t1 = await tokenLogin(t, email);
    const keep = await tokenLogin(t, email);
    const r = await new Client(t.url).req('POST', '/auth/logout-others', { bearer: keep.access });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { revoked: 2 });
    assert.equal(await bearerStatus(t, keep), 200);
    assert.equal(await refreshStatus(t, keep), 200);
    assert.equal(await cookieStatus(c1), 401);
    assert.equal(await bearerStatus(t, t1), 401);
    assert.equal(await refreshStatus(t, t1), 400);
  });

  test('logout-all ends every session of both modes, the caller included', async () => {
    for (const caller of ['cookie', 'bearer'] as const) {
      const email = uniqueEmail(`all${caller}`);
      await register(t, email);
      const c1 = await cookieLogin(t, email);
      const c2 = await cookieLogin(t, email);
      const t1 = await tokenLogin(t, email);
      const t2 = await tokenLogin(t, email);
      const r =
        caller === 'cookie'
          ? await c1.client.req('POST', '/auth/logout-all')
          : await new Client(t.url).req('POST', '/auth/logout-all', { bearer: t1.access });
      assert.equal(r.status, 204, caller);
      for (const c of [c1, c2]) assert.equal(await cookieStatus(c), 401, caller);
      for (const s of [t1, t2]) {
        assert.equal(await bearerStatus(t, s), 401, caller);
        assert.equal(await refreshStatus(t, s), 400, caller);
      }
      if (caller === 'cookie') assert.equal(c1.client.jar.size, 0, 'the cookie is cleared');
    }
  });

  test('ending sessions needs a signed-in caller', async () => {
    const anon = new Client(t.url);
    assert.equal((await anon.req('DELETE', '/auth/sessions/abc')).status, 401);
    assert.equal((await anon.req('POST', '/auth/logout-others')).status, 401);
    assert.equal((await anon.req('POST', '/auth/logout-all')).status, 401);
  });
});
