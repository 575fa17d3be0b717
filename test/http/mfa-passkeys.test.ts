/**
 * Passkeys over HTTP, on every store: registration, the list (rename, remove), passwordless sign-in
 * with discoverable credentials, a passkey as the second factor, and the attacks WebAuthn must refuse —
 * expired, reused and cross-ceremony challenges, another origin or RP ID, a credential of another
 * user, a signature counter that went back, no user verification on a passwordless sign-in.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { decodeJwt } from 'jose';
import { storeKinds, type OpenedStores } from '../support/store-matrix.js';
import { Client, GOOD_PASSWORD, startTestServer, uniqueEmail, type TestServer } from '../support/server.js';
import { register } from '../support/flows.js';
import { addPasskey, ORIGIN, passwordStep, SECRET } from '../support/mfa.js';
import { SoftAuthenticator } from '../support/webauthn.js';

async function signedIn(t: TestServer, email: string): Promise<Client> {
  const c = new Client(t.url);
  const r = await c.req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD } });
  assert.equal(r.status, 200, r.text);
  return c;
}

async function loginOptions(t: TestServer): Promise<any> {
  const r = await new Client(t.url).req('POST', '/auth/passkeys/login/options', { json: {} });
  assert.equal(r.status, 200, r.text);
  return r.body;
}

/** A cookie session opened with the passkey (aal2, recent). */
async function passkeySession(t: TestServer, auth: SoftAuthenticator): Promise<Client> {
  const c = new Client(t.url);
  const r = await c.req('POST', '/auth/passkeys/login', { json: { response: auth.get(await loginOptions(t)) } });
  assert.equal(r.status, 200, r.text);
  return c;
}

function refused(r: { status: number; body: any; text: string }, what: string): void {
  assert.equal(r.status, 401, `${what}: ${r.text}`);
  assert.equal(r.body.code, 'invalid_webauthn', what);
}

for (const kind of await storeKinds()) {
  describe(`passkeys (${kind.name})`, { skip: kind.skip }, () => {
    let opened: OpenedStores;
    let t: TestServer;
    before(async () => {
      opened = await kind.open();
      t = await startTestServer({ config: { secret: SECRET }, stores: opened.stores });
    });
    after(async () => {
      await t.close();
      await opened.cleanup();
    });

    test('register → list → passwordless sign-in (cookie and token): amr ["hwk","user"], aal2, no email asked', async () => {
      const email = uniqueEmail('pk');
      const userId = await register(t, email);
      const c = await signedIn(t, email);
      const auth = new SoftAuthenticator(ORIGIN);
      const opts = await c.req('POST', '/auth/passkeys/register/options', { json: {} });
      assert.equal(opts.body.rp.id, 'localhost');
      assert.equal(opts.body.authenticatorSelection.residentKey, 'required');
      assert.equal(opts.body.authenticatorSelection.userVerification, 'required');
      const reg = await c.req('POST', '/auth/passkeys/register', { json: { response: auth.create(opts.body), name: 'Work laptop' } });
      assert.equal(reg.status, 201, reg.text);
      assert.equal(reg.body.passkey.name, 'Work laptop');
      const list = await c.req('GET', '/auth/passkeys');
      assert.deepEqual(list.body.passkeys.map((p: any) => p.name), ['Work laptop']);
      const stored = await opened.stores.passkeys.getPasskey(reg.body.passkey.id);
      assert.equal(stored?.userId, userId);

      const o = await loginOptions(t);
      assert.deepEqual(o.allowCredentials ?? [], [], 'discoverable: no credential list, no email');
      const cookie = new Client(t.url);
      const r = await cookie.req('POST', '/auth/passkeys/login', { json: { response: auth.get(o) } });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.user.id, userId);
      assert.deepEqual(r.body.session.amr, ['hwk', 'user']);
      assert.equal(r.body.session.acr, 'aal2');
      assert.equal((await cookie.req('GET', '/auth/me')).status, 200);

      const tok = await new Client(t.url).req('POST', '/auth/passkeys/login', { json: { response: auth.get(await loginOptions(t)), mode: 'token' } });
      assert.equal(tok.status, 200, tok.text);
      const claims = decodeJwt(tok.body.access_token);
      assert.deepEqual(claims.amr, ['hwk', 'user']);
      assert.equal(claims.acr, 'aal2');
      assert.ok(tok.body.refresh_token);
    });

    test('a challenge is single use, expires after five minutes, and belongs to one ceremony', async () => {
      const email = uniqueEmail('pkchal');
      await register(t, email);
      const c = await signedIn(t, email);
      const auth = new SoftAuthenticator(ORIGIN);
      await addPasskey(c, auth);
      const o = await loginOptions(t);
      assert.equal((await new Client(t.url).req('POST', '/auth/passkeys/login', { json: { response: auth.get(o) } })).status, 200);
      refused(await new Client(t.url).req('POST', '/auth/passkeys/login', { json: { response: auth.get(o) } }), 'reused challenge');

      const late = await loginOptions(t);
      t.clock.advance(5 * 60_000 + 1);
      refused(await new Client(t.url).req('POST', '/auth/passkeys/login', { json: { response: auth.get(late) } }), 'expired challenge');

      // A registration challenge answered as a sign-in, and a step-up challenge likewise.
      const fresh = await passkeySession(t, auth);
      const regOpts = await fresh.req('POST', '/auth/passkeys/register/options', { json: {} });
      refused(await new Client(t.url).req('POST', '/auth/passkeys/login', { json: { response: auth.get(await loginOptions(t), { challenge: regOpts.body.challenge }) } }), 'registration challenge');
      const reauthOpts = await fresh.req('POST', '/auth/reauth/options', { json: {} });
      assert.equal(reauthOpts.status, 200, reauthOpts.text);
      refused(await new Client(t.url).req('POST', '/auth/passkeys/login', { json: { response: auth.get(await loginOptions(t), { challenge: reauthOpts.body.challenge }) } }), 'step-up challenge');
      // A challenge nobody issued.
      refused(await new Client(t.url).req('POST', '/auth/passkeys/login', { json: { response: auth.get(await loginOptions(t), { challenge: 'A'.repeat(43) }) } }), 'unknown challenge');
    });

    test('another origin, another RP ID, a get() answered as create(), and no user verification are refused', async () => {
      const email = uniqueEmail('pkorigin');
      await register(t, email);
      const c = await signedIn(t, email);
      const auth = new SoftAuthenticator(ORIGIN);
      await addPasskey(c, auth);
      refused(await new Client(t.url).req('POST', '/auth/passkeys/login', { json: { response: auth.get(await loginOptions(t), { origin: 'https://evil.example' }) } }), 'origin');
      refused(await new Client(t.url).req('POST', '/auth/passkeys/login', { json: { response: auth.get(await loginOptions(t), { rpId: 'evil.example' }) } }), 'rp id');
      refused(await new Client(t.url).req('POST', '/auth/passkeys/login', { json: { response: auth.get(await loginOptions(t), { type: 'webauthn.create' }) } }), 'type');
      refused(await new Client(t.url).req('POST', '/auth/passkeys/login', { json: { response: auth.get(await loginOptions(t), { uv: false }) } }), 'no user verification');
      // Registration from another origin is refused too, and stores nothing.
      const other = new SoftAuthenticator('https://evil.example');
      const pc = await passkeySession(t, auth);
      const opts = await pc.req('POST', '/auth/passkeys/register/options', { json: {} });
      const reg = await pc.req('POST', '/auth/passkeys/register', { json: { response: other.create(opts.body) } });
      refused(reg, 'registration origin');
      assert.equal((await pc.req('GET', '/auth/passkeys')).body.passkeys.length, 1);
    });

    test('a signature counter that goes back (a cloned authenticator) is refused', async () => {
      const email = uniqueEmail('pkcounter');
      await register(t, email);
      const c = await signedIn(t, email);
      const auth = new SoftAuthenticator(ORIGIN);
      await addPasskey(c, auth);
      assert.equal((await new Client(t.url).req('POST', '/auth/passkeys/login', { json: { response: auth.get(await loginOptions(t), { counter: 10 }) } })).status, 200);
      refused(await new Client(t.url).req('POST', '/auth/passkeys/login', { json: { response: auth.get(await loginOptions(t), { counter: 10 }) } }), 'same counter');
      refused(await new Client(t.url).req('POST', '/auth/passkeys/login', { json: { response: auth.get(await loginOptions(t), { counter: 3 }) } }), 'lower counter');
      assert.equal((await new Client(t.url).req('POST', '/auth/passkeys/login', { json: { response: auth.get(await loginOptions(t), { counter: 11 }) } })).status, 200);
    });

    test('as the second factor after a password: amr ["pwd","hwk","user","mfa"]; a credential of another user is refused', async () => {
      const email = uniqueEmail('pkmfa');
      await register(t, email);
      const auth = new SoftAuthenticator(ORIGIN);
      await addPasskey(await signedIn(t, email), auth);
      const mallory = uniqueEmail('mallory');
      await register(t, mallory);
      const theirs = new SoftAuthenticator(ORIGIN);
      await addPasskey(await signedIn(t, mallory), theirs);

      const c = new Client(t.url);
      const step = await passwordStep(c, email);
      assert.deepEqual(step.methods, ['webauthn']);
      assert.ok(step.webauthn?.challenge);
      assert.equal(step.webauthn.allowCredentials.length, 1);
      // Mallory's own passkey, answering Alice's challenge.
      const cross = await c.req('POST', '/auth/login/mfa', { json: { mfa_token: step.mfa_token, webauthn: theirs.get(step.webauthn, { credentialId: [...theirs.credentials.keys()][0] }) } });
      refused(cross, 'credential of another user');
      // That spent the challenge: fresh options for the same token.
      const again = await c.req('POST', '/auth/login/mfa/options', { json: { mfa_token: step.mfa_token } });
      assert.equal(again.status, 200, again.text);
      const ok = await c.req('POST', '/auth/login/mfa', { json: { mfa_token: step.mfa_token, webauthn: auth.get(again.body) } });
      assert.equal(ok.status, 200, ok.text);
      assert.deepEqual(ok.body.session.amr, ['pwd', 'hwk', 'user', 'mfa']);
      assert.equal(ok.body.session.acr, 'aal2');
    });

    test('rename and remove (recent auth); another user’s passkey is not found; a removed passkey signs in no more', async () => {
      const email = uniqueEmail('pkmanage');
      await register(t, email);
      const c = await signedIn(t, email);
      const auth = new SoftAuthenticator(ORIGIN);
      const id = await addPasskey(c, auth, 'Phone');
      assert.equal((await c.req('PATCH', `/auth/passkeys/${id}`, { json: { name: 'Old phone' } })).status, 204);
      assert.equal((await c.req('GET', '/auth/passkeys')).body.passkeys[0].name, 'Old phone');
      const bad = await c.req('PATCH', `/auth/passkeys/${id}`, { json: { name: 'a\u0000b' } });
      assert.equal(bad.status, 400);

      const other = uniqueEmail('pkother');
      await register(t, other);
      const oc = await signedIn(t, other);
      assert.equal((await oc.req('DELETE', `/auth/passkeys/${id}`)).status, 404);
      assert.equal((await oc.req('PATCH', `/auth/passkeys/${id}`, { json: { name: 'mine' } })).status, 404);

      // The password session is aal1; the user now has a passkey, so removal needs a recent aal2 step-up.
      const stale = await c.req('DELETE', `/auth/passkeys/${id}`);
      assert.equal(stale.status, 403, stale.text);
      assert.equal(stale.body.code, 'reauth_required');
      assert.equal(stale.body.acr, 'aal2');
      const ro = await c.req('POST', '/auth/reauth/options', { json: {} });
      assert.equal((await c.req('POST', '/auth/reauth', { json: { webauthn: auth.get(ro.body) } })).status, 200);
      assert.equal((await c.req('DELETE', `/auth/passkeys/${id}`)).status, 204);
      assert.equal(await opened.stores.passkeys.getPasskey(id), null);
      refused(await new Client(t.url).req('POST', '/auth/passkeys/login', { json: { response: auth.get(await loginOptions(t), { credentialId: id }) } }), 'removed passkey');
    });

    test('registering the same credential twice is refused; malformed responses are 4xx problems', async () => {
      const email = uniqueEmail('pkdup');
      await register(t, email);
      const c = await signedIn(t, email);
      const auth = new SoftAuthenticator(ORIGIN);
      const opts = await c.req('POST', '/auth/passkeys/register/options', { json: {} });
      const response = auth.create(opts.body);
      assert.equal((await c.req('POST', '/auth/passkeys/register', { json: { response } })).status, 201);
      const pc = await passkeySession(t, auth);
      const opts2 = await pc.req('POST', '/auth/passkeys/register/options', { json: {} });
      assert.equal(opts2.body.excludeCredentials.length, 1);
      const replayed = await pc.req('POST', '/auth/passkeys/register', { json: { response } });
      refused(replayed, 'registration replay (challenge spent)');
      for (const response of [null, 'x', { id: 'a' }, { id: 'a', rawId: 'a', type: 'public-key', response: { clientDataJSON: '!!!', attestationObject: 'x' } }]) {
        const r = await pc.req('POST', '/auth/passkeys/register', { json: { response } });
        assert.ok(r.status === 400 || r.status === 401, `${JSON.stringify(response)} → ${r.status}`);
        const l = await new Client(t.url).req('POST', '/auth/passkeys/login', { json: { response } });
        assert.ok(l.status === 400 || l.status === 401, `${JSON.stringify(response)} → ${l.status}`);
      }
    });
  });
}
