/** An access token stops working at once on this instance when its session ends, however it ends. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client, GOOD_PASSWORD, startTestServer, type TestServer } from '../support/server.js';
import { assertInvalidToken, decode, me, refresh, registerUser, tokenLogin } from './token-kit.js';

describe('revocation of access tokens', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(() => t.close());

  const live = async (token: string) => assert.equal((await me(t, token)).status, 200, 'token works before');

  test('logout with the bearer token ends it and its refresh token', async () => {
    const a = await tokenLogin(t);
    await live(a.access);
    const r = await new Client(t.url).req('POST', '/auth/logout', { bearer: a.access });
    assert.equal(r.status, 204);
    assertInvalidToken(await me(t, a.access), 'after logout');
    assert.equal((await refresh(t, a.refresh)).status, 400);
  });

  test('logout-all ends every session of the user, token and cookie alike', async () => {
    const email = await registerUser(t);
    const a = await tokenLogin(t, { email });
    const b = await tokenLogin(t, { email });
    const cookie = new Client(t.url);
    assert.equal((await cookie.req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD } })).status, 200);
    assert.equal((await cookie.req('GET', '/auth/me')).status, 200);
    await live(b.access);

    const r = await new Client(t.url).req('POST', '/auth/logout-all', { bearer: a.access });
    assert.equal(r.status, 204, r.text);
    assertInvalidToken(await me(t, a.access), 'own token');
    assertInvalidToken(await me(t, b.access), 'other token session');
    assert.equal((await refresh(t, b.refresh)).status, 400);
    assert.equal((await cookie.req('GET', '/auth/me')).status, 401, 'cookie session');
  });

  test('revoking its session from the device list (DELETE /auth/sessions/:id) ends it', async () => {
    const email = await registerUser(t);
    const a = await tokenLogin(t, { email });
    const b = await tokenLogin(t, { email });
    await live(b.access);
    const sid = decode(b.access).payload.sid;
    const r = await new Client(t.url).req('DELETE', `/auth/sessions/${sid}`, { bearer: a.access });
    assert.equal(r.status, 204, r.text);
    assertInvalidToken(await me(t, b.access), 'revoked session');
    assert.equal((await refresh(t, b.refresh)).status, 400);
    assert.equal((await me(t, a.access)).status, 200, 'the acting session lives on');
  });

  test('disabling the user ends its tokens and refresh tokens', async () => {
    const a = await tokenLogin(t);
    await live(a.access);
    await t.srv.gatehouse.core.admin.setDisabled(a.body.user.id, true);
    assertInvalidToken(await me(t, a.access), 'disabled');
    assert.equal((await refresh(t, a.refresh)).status, 400);
  });

  test('deleting the user ends its tokens and refresh tokens', async () => {
    const a = await tokenLogin(t);
    await live(a.access);
    await t.srv.gatehouse.core.admin.deleteUser(a.body.user.id);
    assertInvalidToken(await me(t, a.access), 'deleted');
    assert.equal((await refresh(t, a.refresh)).status, 400);
  });

  test('deleting the account over HTTP ends the token at once', async () => {
    const a = await tokenLogin(t);
    const r = await new Client(t.url).req('DELETE', '/auth/account', { bearer: a.access });
    assert.equal(r.status, 204, r.text);
    assertInvalidToken(await me(t, a.access), 'account deleted');
  });

  test('a password change ends the other sessions (their tokens die) and keeps the acting one', async () => {
    const email = await registerUser(t);
    const a = await tokenLogin(t, { email });
    const b = await tokenLogin(t, { email });
    await live(b.access);
    const r = await new Client(t.url).req('POST', '/auth/password', {
      bearer: a.access,
      json: { current_password: GOOD_PASSWORD, new_password: 'a different long passphrase 42' },
    });
    assert.equal(r.status, 204, r.text);
    assertInvalidToken(await me(t, b.access), 'other session after password change');
    assert.equal((await refresh(t, b.refresh)).status, 400);
    assert.equal((await me(t, a.access)).status, 200);
  });

  test('steady-state bearer requests read no session from the store, and a revoked token still fails', async () => {
    const a = await tokenLogin(t);
    await live(a.access);
    await new Client(t.url).req('POST', '/auth/logout', { bearer: a.access });
    const sessions = t.stores.sessions;
    const getSession = sessions.getSession;
    let reads = 0;
    sessions.getSession = async (...args) => {
      reads++;
      return getSession.apply(sessions, args);
    };
    try {
      const b = await tokenLogin(t);
      await me(t, b.access);
      reads = 0;
      for (let i = 0; i < 5; i++) assert.equal((await me(t, b.access)).status, 200);
      assert.equal(reads, 0, 'steady-state bearer requests read no session');
      assertInvalidToken(await me(t, a.access), 'revoked');
    } finally {
      sessions.getSession = getSession;
    }
  });
});
