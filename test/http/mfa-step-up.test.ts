/**
 * Step-up and the level sensitive actions need. A user without a second factor re-authenticates with
 * the password (aal1). Once a user has a second factor, every sensitive action — password, email,
 * second-factor and passkey changes, ending other sessions, deleting the account — needs a recent
 * authentication at aal2: 403 `reauth_required` with `acr: "aal2"` otherwise, a password step-up is
 * not enough, and a step-up with the TOTP code or a passkey is. On every store, in both transports.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client, GOOD_PASSWORD, startTestServer, uniqueEmail, type TestServer } from '../support/server.js';
import { register } from '../support/flows.js';
import { storeKinds, type OpenedStores } from '../support/store-matrix.js';
import { addPasskey, enrolTotp, ORIGIN, passwordStep, SECRET } from '../support/mfa.js';
import { SoftAuthenticator, totpCode } from '../support/webauthn.js';

const WINDOW = 5 * 60_000; // shorter than the access token's life, so bearer callers stay signed in

type Req = (method: string, path: string, json?: unknown) => ReturnType<Client['req']>;

/** Password + TOTP sign-in in either transport; resolves a request function carrying the credential. */
async function strongLogin(t: TestServer, email: string, secret: string, mode: 'cookie' | 'bearer'): Promise<Req> {
  const c = new Client(t.url);
  const step = await passwordStep(c, email, mode === 'bearer' ? { mode: 'token' } : {});
  const done = await c.req('POST', '/auth/login/mfa', { json: { mfa_token: step.mfa_token, totp: totpCode(secret, t.clock.now()) } });
  assert.equal(done.status, 200, done.text);
  t.clock.advance(30_000); // the next code is of a later step
  const bearer = mode === 'bearer' ? (done.body.access_token as string) : undefined;
  return (m, p, json) => c.req(m, p, { ...(bearer ? { bearer } : {}), ...(json === undefined ? {} : { json }) });
}

function needsAal2(r: { status: number; body: any; text: string }, what: string): void {
  assert.equal(r.status, 403, `${what}: ${r.text}`);
  assert.equal(r.body.code, 'reauth_required', what);
  assert.equal(r.body.acr, 'aal2', what);
}

// The step-up is recorded on the session (in Redis with a Redis session store): every store, both transports.
const kinds = await storeKinds();
for (const kind of kinds) for (const mode of ['cookie', 'bearer'] as const) {
  describe(`step-up for a user with a second factor (${kind.name}, ${mode})`, { skip: kind.skip }, () => {
    let opened: OpenedStores;
    let t: TestServer;
    before(async () => {
      opened = await kind.open();
      t = await startTestServer({ config: { secret: SECRET, reauthWindow: WINDOW }, stores: opened.stores });
    });
    after(async () => {
      await t.close();
      await opened.cleanup();
    });

    test('past the window every sensitive action answers 403 reauth_required (aal2) and changes nothing', async () => {
      const email = uniqueEmail('stale2fa');
      const userId = await register(t, email);
      const { secret } = await enrolTotp(t, email);
      const me = await strongLogin(t, email, secret, mode);
      t.clock.advance(WINDOW + 1);
      needsAal2(await me('POST', '/auth/logout-others'), 'logout-others');
      needsAal2(await me('POST', '/auth/logout-all'), 'logout-all');
      needsAal2(await me('POST', '/auth/password', { current_password: GOOD_PASSWORD, new_password: 'another long passphrase' }), 'password');
      needsAal2(await me('POST', '/auth/email', { new_email: uniqueEmail('moved'), current_password: GOOD_PASSWORD }), 'email change');
      needsAal2(await me('DELETE', '/auth/mfa/totp'), 'remove totp');
      needsAal2(await me('POST', '/auth/mfa/recovery-codes', {}), 'recovery codes');
      needsAal2(await me('POST', '/auth/passkeys/register/options', {}), 'add passkey');
      needsAal2(await me('DELETE', '/auth/account'), 'delete account');
      assert.ok(await t.stores.totp.getTotp(userId), 'the authenticator is still there');
      assert.ok(await t.stores.users.getUserById(userId), 'the account is still there');
    });

    test('a password step-up is not enough (403 aal2, password not even checked); the TOTP code is', async () => {
      const email = uniqueEmail('stepup');
      await register(t, email);
      const { secret } = await enrolTotp(t, email);
      const me = await strongLogin(t, email, secret, mode);
      t.clock.advance(WINDOW + 1);
      needsAal2(await me('POST', '/auth/reauth', { password: GOOD_PASSWORD }), 'password step-up');
      needsAal2(await me('POST', '/auth/reauth', { password: 'wrong password entirely' }), 'wrong password step-up');
      const wrong = await me('POST', '/auth/reauth', { totp: '000000' === totpCode(secret, t.clock.now()) ? '111111' : '000000' });
      assert.equal(wrong.status, 401);
      assert.equal(wrong.body.code, 'invalid_otp');
      const ok = await me('POST', '/auth/reauth', { totp: totpCode(secret, t.clock.now()) });
      assert.equal(ok.status, 200, ok.text);
      assert.equal((await me('POST', '/auth/logout-others')).status, 200);
      const codes = await me('POST', '/auth/mfa/recovery-codes', {});
      assert.equal(codes.status, 200, codes.text);
    });

    test('a session opened with the password before the second factor existed is aal1: it must step up first', async () => {
      const email = uniqueEmail('oldsession');
      await register(t, email);
      const c = new Client(t.url);
      const login = await c.req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD, ...(mode === 'bearer' ? { mode: 'token' } : {}) } });
      assert.equal(login.status, 200);
      const bearer = mode === 'bearer' ? (login.body.access_token as string) : undefined;
      const me: Req = (m, p, json) => c.req(m, p, { ...(bearer ? { bearer } : {}), ...(json === undefined ? {} : { json }) });
      const { secret } = await enrolTotp(t, email); // from another session
      needsAal2(await me('POST', '/auth/logout-others'), 'recent but aal1');
      const up = await me('POST', '/auth/reauth', { totp: totpCode(secret, t.clock.now()) });
      assert.equal(up.status, 200, up.text);
      const sessions = await me('GET', '/auth/sessions');
      const current = sessions.body.sessions.find((s: any) => s.current);
      assert.deepEqual(current.amr, ['pwd', 'otp', 'mfa']);
      assert.equal(current.acr, 'aal2');
      assert.equal((await me('POST', '/auth/logout-others')).status, 200);
    });

    test('a passkey step-up reaches aal2; a step-up challenge of another session is refused', async () => {
      const email = uniqueEmail('pkstep');
      await register(t, email);
      const { secret, client } = await enrolTotp(t, email);
      const auth = new SoftAuthenticator(ORIGIN);
      await addPasskey(client, auth); // the enrolling session is aal2 and recent
      const me = await strongLogin(t, email, secret, mode);
      t.clock.advance(WINDOW + 1);
      needsAal2(await me('POST', '/auth/logout-others'), 'stale');
      const foreign = await client.req('POST', '/auth/reauth/options', { json: {} });
      const cross = await me('POST', '/auth/reauth', { webauthn: auth.get(foreign.body) });
      assert.equal(cross.status, 401);
      assert.equal(cross.body.code, 'invalid_webauthn');
      const opts = await me('POST', '/auth/reauth/options', {});
      assert.equal(opts.status, 200, opts.text);
      const ok = await me('POST', '/auth/reauth', { webauthn: auth.get(opts.body) });
      assert.equal(ok.status, 200, ok.text);
      assert.equal((await me('POST', '/auth/logout-others')).status, 200);
    });
  });
}

describe('step-up for a user without a second factor', () => {
  test('the password still re-authenticates (aal1 is what their actions need); reauth/options answers 409 no_second_factor', async () => {
    const t = await startTestServer({ config: { reauthWindow: WINDOW } });
    try {
      const email = uniqueEmail('plain');
      await register(t, email);
      const c = new Client(t.url);
      assert.equal((await c.req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD } })).status, 200);
      t.clock.advance(WINDOW + 1);
      const stale = await c.req('POST', '/auth/logout-others');
      assert.equal(stale.status, 403);
      assert.equal(stale.body.acr, 'aal1');
      assert.equal((await c.req('POST', '/auth/reauth', { json: { password: GOOD_PASSWORD } })).status, 200);
      assert.equal((await c.req('POST', '/auth/logout-others')).status, 200);
      const o = await c.req('POST', '/auth/reauth/options', { json: {} });
      assert.equal(o.status, 409);
      assert.equal(o.body.code, 'no_second_factor');
      const none = await c.req('POST', '/auth/reauth', { json: {} });
      assert.equal(none.status, 400);
    } finally {
      await t.close();
    }
  });
});
