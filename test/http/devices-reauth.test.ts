/**
 * Sensitive actions need a recent authentication (login or POST /auth/reauth within reauthWindow):
 * revoking another session, logout-others, logout-all, password change, account deletion. Ending the
 * CURRENT session through DELETE /auth/sessions/:id never does: signing yourself out is always allowed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client, GOOD_PASSWORD, startTestServer, uniqueEmail, type TestServer } from '../support/server.js';
import { bearerStatus, cookieLogin, cookieStatus, register, tokenLogin } from '../support/flows.js';

const WINDOW = 5 * 60_000;
const NEW_PASSWORD = 'a completely different passphrase';

/** A caller in one mode: sends requests with its own credential. */
type Caller = { mode: 'cookie' | 'bearer'; id: string; req: (method: string, path: string, json?: unknown) => ReturnType<Client['req']> };

async function caller(t: TestServer, email: string, mode: Caller['mode']): Promise<Caller> {
  if (mode === 'cookie') {
    const s = await cookieLogin(t, email);
    return { mode, id: s.id, req: (m, p, json) => s.client.req(m, p, json === undefined ? {} : { json }) };
  }
  const s = await tokenLogin(t, email);
  const c = new Client(t.url);
  return { mode, id: s.id, req: (m, p, json) => c.req(m, p, { bearer: s.access, ...(json === undefined ? {} : { json }) }) };
}

function assertReauthRequired(r: Awaited<ReturnType<Client['req']>>, what: string): void {
  assert.equal(r.status, 403, `${what}: ${r.text}`);
  assert.match(r.headers.get('content-type') ?? '', /application\/problem\+json/);
  assert.equal(r.body.code, 'reauth_required', what);
}

for (const mode of ['cookie', 'bearer'] as const) {
  describe(`re-authentication (${mode} caller)`, () => {
    let t: TestServer;
    before(async () => {
      // Access tokens outlive two windows here, so the bearer caller meets the window running out, not its token.
      t = await startTestServer({ config: { reauthWindow: WINDOW, token: { accessTtl: 4 * WINDOW } } });
    });
    after(() => t.close());

    test('within the window after login, revoking another session proceeds', async () => {
      const email = uniqueEmail('within');
      await register(t, email);
      const me = await caller(t, email, mode);
      const other = await cookieLogin(t, email);
      t.clock.advance(WINDOW - 1000);
      assert.equal((await me.req('DELETE', `/auth/sessions/${other.id}`)).status, 204);
      assert.equal(await cookieStatus(other), 401);
    });

    test('after the window every sensitive action gets 403 reauth_required and changes nothing', async () => {
      const email = uniqueEmail('stale');
      await register(t, email);
      const me = await caller(t, email, mode);
      const other = await cookieLogin(t, email);
      const otherToken = await tokenLogin(t, email);
      t.clock.advance(WINDOW + 1);
      assertReauthRequired(await me.req('DELETE', `/auth/sessions/${other.id}`), 'revoke other');
      assertReauthRequired(await me.req('POST', '/auth/logout-others'), 'logout-others');
      assertReauthRequired(await me.req('POST', '/auth/logout-all'), 'logout-all');
      assertReauthRequired(await me.req('POST', '/auth/password', { current_password: GOOD_PASSWORD, new_password: NEW_PASSWORD }), 'password');
      assertReauthRequired(await me.req('DELETE', '/auth/account'), 'delete account');
      assert.equal(await cookieStatus(other), 200);
      assert.equal(await bearerStatus(t, otherToken), 200);
      assert.equal((await me.req('GET', '/auth/me')).status, 200);
      assert.equal((await cookieLogin(t, email)).id.length > 0, true, 'the password is unchanged and the account exists');
    });

    test('ending the current session through DELETE needs no re-authentication', async () => {
      const email = uniqueEmail('selfend');
      await register(t, email);
      const me = await caller(t, email, mode);
      t.clock.advance(WINDOW + 1);
      assert.equal((await me.req('DELETE', `/auth/sessions/${me.id}`)).status, 204);
      assert.equal((await me.req('GET', '/auth/me')).status, 401);
    });

    test('POST /auth/reauth with a wrong password is 401 invalid_credentials and does not open the window', async () => {
      const email = uniqueEmail('wrong');
      await register(t, email);
      const me = await caller(t, email, mode);
      const other = await cookieLogin(t, email);
      t.clock.advance(WINDOW + 1);
      const r = await me.req('POST', '/auth/reauth', { password: 'not the password at all' });
      assert.equal(r.status, 401);
      assert.equal(r.body.code, 'invalid_credentials');
      assertReauthRequired(await me.req('DELETE', `/auth/sessions/${other.id}`), 'still stale');
    });

    test('POST /auth/reauth with the right password refreshes the window, then the actions succeed', async () => {
      const email = uniqueEmail('reauth');
      await register(t, email);
      const me = await caller(t, email, mode);
      const a = await cookieLogin(t, email);
      const b = await tokenLogin(t, email);
      t.clock.advance(WINDOW + 1);
      assertReauthRequired(await me.req('DELETE', `/auth/sessions/${a.id}`), 'before reauth');
      const r = await me.req('POST', '/auth/reauth', { password: GOOD_PASSWORD });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.reauthenticated_at, new Date(t.clock.now()).toISOString());
      assert.equal(r.body.valid_for, WINDOW / 1000);
      assert.equal((await me.req('DELETE', `/auth/sessions/${a.id}`)).status, 204);
      assert.equal(await cookieStatus(a), 401);
      const others = await me.req('POST', '/auth/logout-others');
      assert.equal(others.status, 200);
      assert.equal(await bearerStatus(t, b), 401);
      // The refreshed window runs out again.
      t.clock.advance(WINDOW + 1);
      assertReauthRequired(await me.req('POST', '/auth/logout-all'), 'window ran out again');
    });

    test('re-authenticating one session does not open the window for another session of the same user', async () => {
      const email = uniqueEmail('isolated');
      await register(t, email);
      const me = await caller(t, email, mode);
      const sibling = await caller(t, email, mode);
      const victim = await cookieLogin(t, email);
      t.clock.advance(WINDOW + 1);
      assert.equal((await me.req('POST', '/auth/reauth', { password: GOOD_PASSWORD })).status, 200);
      assertReauthRequired(await sibling.req('DELETE', `/auth/sessions/${victim.id}`), 'sibling');
    });

    test('logout-all after re-authentication ends every session', async () => {
      const email = uniqueEmail('all');
      await register(t, email);
      const me = await caller(t, email, mode);
      const a = await cookieLogin(t, email);
      t.clock.advance(WINDOW + 1);
      assert.equal((await me.req('POST', '/auth/reauth', { password: GOOD_PASSWORD })).status, 200);
      assert.equal((await me.req('POST', '/auth/logout-all')).status, 204);
      assert.equal(await cookieStatus(a), 401);
      assert.equal((await me.req('GET', '/auth/me')).status, 401);
    });
  });

  describe(`account actions (${mode} caller)`, () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer({ config: { reauthWindow: WINDOW } });
    });
    after(() => t.close());

    test('changing the password: old fails, new works, every other session ends, the current one stays', async () => {
      const email = uniqueEmail('pw');
      await register(t, email);
      const me = await caller(t, email, mode);
      const c = await cookieLogin(t, email);
      const k = await tokenLogin(t, email);
      const r = await me.req('POST', '/auth/password', { current_password: GOOD_PASSWORD, new_password: NEW_PASSWORD });
      assert.equal(r.status, 204, r.text);
      assert.equal((await me.req('GET', '/auth/me')).status, 200);
      assert.equal(await cookieStatus(c), 401);
      assert.equal(await bearerStatus(t, k), 401);
      assert.equal((await new Client(t.url).req('POST', '/auth/refresh', { json: { refresh_token: k.refresh } })).status, 400);
      const old = await new Client(t.url).req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD } });
      assert.equal(old.status, 401);
      assert.equal((await cookieLogin(t, email, { password: NEW_PASSWORD })).id.length > 0, true);
      const list = await me.req('GET', '/auth/sessions');
      assert.equal((list.body.sessions as any[]).length, 2, 'the current session and the new login');
    });

    test('changing the password with a wrong current password is 401 invalid_credentials and ends nothing', async () => {
      const email = uniqueEmail('pwwrong');
      await register(t, email);
      const me = await caller(t, email, mode);
      const c = await cookieLogin(t, email);
      const r = await me.req('POST', '/auth/password', { current_password: 'definitely not it', new_password: NEW_PASSWORD });
      assert.equal(r.status, 401);
      assert.equal(r.body.code, 'invalid_credentials');
      assert.equal(await cookieStatus(c), 200);
      assert.equal((await cookieLogin(t, email)).id.length > 0, true);
    });

    test('changing to a password the policy refuses is a 4xx naming new_password', async () => {
      const email = uniqueEmail('pwweak');
      await register(t, email);
      const me = await caller(t, email, mode);
      const r = await me.req('POST', '/auth/password', { current_password: GOOD_PASSWORD, new_password: 'short' });
      assert.ok(r.status >= 400 && r.status < 500, String(r.status));
      assert.match(r.text, /new_password/);
      assert.equal((await cookieLogin(t, email)).id.length > 0, true);
    });

    test('deleting the account ends every session and login then fails exactly like an unknown email', async () => {
      const email = uniqueEmail('del');
      await register(t, email);
      const me = await caller(t, email, mode);
      const c = await cookieLogin(t, email);
      const k = await tokenLogin(t, email);
      const r = await me.req('DELETE', '/auth/account');
      assert.equal(r.status, 204, r.text);
      assert.equal((await me.req('GET', '/auth/me')).status, 401);
      assert.equal(await cookieStatus(c), 401);
      assert.equal(await bearerStatus(t, k), 401);
      assert.equal((await new Client(t.url).req('POST', '/auth/refresh', { json: { refresh_token: k.refresh } })).status, 400);
      const deleted = await new Client(t.url).req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD } });
      const unknown = await new Client(t.url).req('POST', '/auth/login', { json: { email: uniqueEmail('never'), password: GOOD_PASSWORD } });
      assert.equal(deleted.status, 401);
      assert.equal(deleted.text, unknown.text);
    });
  });
}
