/**
 * Signing in with an OpenID Provider (a real `oidc-provider` on a loopback port): the code flow in
 * both transports, sign-up on and off, verified and unverified addresses, the account page's linked
 * identities (link with recent authentication, unlink rules), the provider shown on the devices
 * page, and accounts without a password.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { cookieLogin, register } from '../support/flows.js';
import { opAccount, pathOf, runOpFlow, signInWith, startOidcBed, type OidcBed } from '../support/oidc.js';
import { Client, GOOD_PASSWORD, uniqueEmail } from '../support/server.js';
import { GatehouseClient, GatehouseClientError } from '../../src/client/index.js';

describe('signing in with an OpenID Provider', () => {
  let bed: OidcBed;
  before(async () => {
    bed = await startOidcBed({ extraProviders: (op) => [{ id: 'closed', name: 'Closed', issuer: op.issuer, clientId: 'gatehouse-test', clientSecret: 'a-client-secret-of-the-test-provider-0123456789', unsafeAllowHttp: true, signUp: false }] });
  });
  after(async () => bed?.close());

  test('the providers are listed for the sign-in page', async () => {
    const r = await new Client(bed.gh.url).req('GET', '/auth/oidc/providers');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.providers[0], { id: 'op', name: 'Test OP', sign_up: true, start_url: '/auth/oidc/op/start' });
  });

  test('start redirects to the provider with state, nonce and PKCE S256, and sets a short-lived __Host- flow cookie', async () => {
    const c = new Client(bed.gh.url);
    const r = await c.req('GET', '/auth/oidc/op/start?mode=session&return_to=/account');
    assert.equal(r.status, 302);
    const url = new URL(r.headers.get('location')!);
    assert.equal(url.origin, bed.op.issuer);
    assert.equal(url.searchParams.get('client_id'), 'gatehouse-test');
    assert.equal(url.searchParams.get('redirect_uri'), `${bed.gh.url}/auth/oidc/op/callback`);
    assert.equal(url.searchParams.get('code_challenge_method'), 'S256');
    assert.match(url.searchParams.get('code_challenge')!, /^[A-Za-z0-9_-]{43}$/);
    assert.match(url.searchParams.get('state')!, /^[A-Za-z0-9_-]{43}$/);
    assert.match(url.searchParams.get('nonce')!, /^[A-Za-z0-9_-]{43}$/);
    const cookie = r.headers.getSetCookie().find((s) => s.startsWith('__Host-gatehouse-oidc='))!;
    assert.match(cookie, /; Path=\/; HttpOnly; Secure; SameSite=Lax; Max-Age=600$/);
    // Nothing of the flow is kept in clear: the store has only the hash of the cookie's secret.
    const secret = cookie.split(';')[0]!.split('.')[1]!;
    const id = cookie.split(';')[0]!.split('=')[1]!.split('.')[0]!;
    const rec = await bed.gh.stores.challenges.getChallenge(id);
    assert.ok(rec);
    assert.equal(rec.purpose, 'oidc.flow');
    for (const v of [secret, url.searchParams.get('state')!, url.searchParams.get('nonce')!]) assert.ok(!rec.binding.includes(v));
  });

  test('session mode: a new identity with a verified address signs up and lands with the session cookie on return_to', async () => {
    const email = uniqueEmail('oidc-new');
    const login = opAccount(bed.op, { email, email_verified: true, name: 'New Person' });
    const { client, r } = await signInWith(bed.gh, login, { query: 'mode=session&return_to=/account?tab=security' });
    assert.equal(r.status, 302, r.text);
    assert.equal(r.headers.get('location'), '/account?tab=security');
    assert.equal(r.headers.get('referrer-policy'), 'no-referrer');
    assert.ok(client.jar.has('__Host-gatehouse'));
    assert.ok(!client.jar.has('__Host-gatehouse-oidc'), 'the flow cookie is cleared');
    const me = await client.req('GET', '/auth/me');
    assert.equal(me.status, 200);
    assert.equal(me.body.user.email, email);
    assert.equal(me.body.user.email_verified, true);
    assert.deepEqual(me.body.session.amr, ['fed']);
    assert.equal(me.body.session.acr, 'aal1');
    // The devices page names the provider the session came from.
    const devices = await client.req('GET', '/auth/sessions');
    assert.equal(devices.body.sessions[0].provider, 'op');
    // The account has no password: it is representable, and no password signs in to it.
    const ids = await client.req('GET', '/auth/identities');
    assert.equal(ids.body.has_password, false);
    assert.equal(ids.body.identities.length, 1);
    assert.equal(ids.body.identities[0].provider, 'op');
    assert.equal(ids.body.identities[0].provider_name, 'Test OP');
    const user = await bed.gh.stores.users.getUserByEmail(email.toLowerCase());
    assert.equal(user?.passwordHash, '');
    for (const pw of ['', ' ', GOOD_PASSWORD]) {
      const login2 = await new Client(bed.gh.url).req('POST', '/auth/login', { json: { email, password: pw || 'x' } });
      assert.equal(login2.status, 401);
    }
    const reauth = await client.req('POST', '/auth/reauth', { json: { password: GOOD_PASSWORD } });
    assert.equal(reauth.status, 401);
    const change = await client.req('POST', '/auth/password', { json: { current_password: '', new_password: 'another long passphrase' } });
    assert.ok(change.status === 400 || change.status === 401, change.text);
    assert.equal((await bed.gh.stores.users.getUserByEmail(email.toLowerCase()))?.passwordHash, '');
  });

  test('a known identity signs in to its user again (no second user)', async () => {
    const email = uniqueEmail('oidc-again');
    const login = opAccount(bed.op, { email, email_verified: true });
    const first = await signInWith(bed.gh, login);
    const id1 = (await first.client.req('GET', '/auth/me')).body.user.id;
    bed.op.accounts.set(login, { email: uniqueEmail('changed'), email_verified: true });
    const second = await signInWith(bed.gh, login);
    assert.equal(second.r.status, 302);
    const me = await second.client.req('GET', '/auth/me');
    assert.equal(me.body.user.id, id1);
    assert.equal(me.body.user.email, email, 'the account keeps its own address');
  });

  test('token mode: the callback hands a single-use code in the fragment, and POST /oidc/exchange trades it for tokens once', async () => {
    const login = opAccount(bed.op, { email: uniqueEmail('oidc-token'), email_verified: true });
    const { client, r } = await signInWith(bed.gh, login, { query: 'mode=token&return_to=/app' });
    assert.equal(r.status, 302);
    const loc = r.headers.get('location')!;
    assert.match(loc, /^\/app#code=[A-Za-z0-9_.-]+$/);
    assert.ok(!/access|refresh/i.test(loc));
    assert.ok(!client.jar.has('__Host-gatehouse'), 'no session cookie in token mode');
    const code = decodeURIComponent(loc.split('#code=')[1]!);
    const stored = await bed.gh.stores.challenges.getChallenge(code.split('.')[0]!);
    assert.equal(stored?.purpose, 'oidc.exchange');
    assert.equal(stored!.expiresAt - stored!.createdAt, 60_000);
    const ex = await new Client(bed.gh.url).req('POST', '/auth/oidc/exchange', { json: { code } });
    assert.equal(ex.status, 200, ex.text);
    assert.equal(ex.body.token_type, 'Bearer');
    assert.ok(ex.body.access_token && ex.body.refresh_token);
    assert.deepEqual(ex.body.session.amr, ['fed']);
    const me = await new Client(bed.gh.url).req('GET', '/auth/me', { bearer: ex.body.access_token });
    assert.equal(me.status, 200);
    const again = await new Client(bed.gh.url).req('POST', '/auth/oidc/exchange', { json: { code } });
    assert.equal(again.status, 400);
    assert.equal(again.body.code, 'invalid_exchange_code');
    assert.equal(again.body.error, 'invalid_grant');
  });

  test('the typed client lists providers, trades the exchange code, lists identities and is refused the last unlink', async () => {
    const gh = new GatehouseClient({ baseUrl: bed.gh.url, now: () => bed.gh.clock.now(), mode: 'token' });
    assert.deepEqual((await gh.identityProviders()).map((p) => p.id), ['op', 'closed']);
    const login = opAccount(bed.op, { email: uniqueEmail('oidc-client'), email_verified: true });
    const { r } = await signInWith(bed.gh, login, { query: 'mode=token' });
    const code = decodeURIComponent(r.headers.get('location')!.split('#code=')[1]!);
    const signed = await gh.exchangeProviderCode(code);
    assert.equal(signed.mode, 'token');
    const mine = await gh.identities();
    assert.equal(mine.hasPassword, false);
    assert.equal(mine.identities[0]!.provider, 'op');
    await assert.rejects(gh.unlinkIdentity(mine.identities[0]!.id), (e: unknown) => e instanceof GatehouseClientError && e.code === 'last_way_in');
    assert.match(await gh.linkIdentity('closed'), /^http:\/\/127\.0\.0\.1:\d+\/auth\?/);
  });

  test('token mode: an exchange code expires after 60 s', async () => {
    const login = opAccount(bed.op, { email: uniqueEmail('oidc-late'), email_verified: true });
    const { r } = await signInWith(bed.gh, login, { query: 'mode=token' });
    const code = decodeURIComponent(r.headers.get('location')!.split('#code=')[1]!);
    bed.gh.clock.advance(61_000);
    const ex = await new Client(bed.gh.url).req('POST', '/auth/oidc/exchange', { json: { code } });
    bed.gh.clock.advance(-61_000);
    assert.equal(ex.status, 400);
    assert.equal(ex.body.code, 'invalid_exchange_code');
  });

  test('sign-up closed: a new identity is refused and no user is made', async () => {
    const email = uniqueEmail('oidc-closed');
    const login = opAccount(bed.op, { email, email_verified: true });
    const c = new Client(bed.gh.url);
    const r0 = await c.req('GET', '/auth/oidc/closed/start');
    const back = await runOpFlow(r0.headers.get('location')!, login);
    const r = await c.req('GET', pathOf(back));
    assert.equal(r.status, 403);
    assert.equal(r.body.code, 'oidc_sign_up_closed');
    assert.match(r.headers.get('content-type')!, /application\/problem\+json/);
    assert.ok(!c.jar.has('__Host-gatehouse'));
    assert.equal(await bed.gh.stores.users.getUserByEmail(email.toLowerCase()), null);
  });

  test('an unverified address creates no user', async () => {
    const email = uniqueEmail('oidc-unverified');
    const login = opAccount(bed.op, { email, email_verified: false });
    const { client, r } = await signInWith(bed.gh, login);
    assert.equal(r.status, 403);
    assert.equal(r.body.code, 'oidc_email_unverified');
    assert.ok(!client.jar.has('__Host-gatehouse'));
    assert.equal(await bed.gh.stores.users.getUserByEmail(email.toLowerCase()), null);
  });

  test('linking from the account page needs recent authentication, then signs in to the same account; unlink keeps the last way in', async () => {
    const email = uniqueEmail('oidc-link');
    await register(bed.gh, email);
    const s = await cookieLogin(bed.gh, email);
    const login = opAccount(bed.op, { email: uniqueEmail('other-address'), email_verified: true });
    // Past the re-authentication window, a link is refused until the user confirms their password.
    bed.gh.clock.advance(11 * 60_000);
    const stale = await s.client.req('POST', '/auth/identities/link', { json: { provider: 'op' } });
    assert.equal(stale.status, 403);
    assert.equal(stale.body.code, 'reauth_required');
    assert.equal((await s.client.req('POST', '/auth/reauth', { json: { password: GOOD_PASSWORD } })).status, 200);
    const link = await s.client.req('POST', '/auth/identities/link', { json: { provider: 'op', return_to: '/account' } });
    assert.equal(link.status, 200, link.text);
    const back = await runOpFlow(link.body.authorization_url, login);
    const cb = await s.client.req('GET', pathOf(back));
    assert.equal(cb.status, 302, cb.text);
    assert.equal(cb.headers.get('location'), '/account');
    const list = await s.client.req('GET', '/auth/identities');
    assert.equal(list.body.identities.length, 1);
    assert.equal(list.body.has_password, true);
    // The provider now signs in to this account.
    const viaOp = await signInWith(bed.gh, login);
    assert.equal(viaOp.r.status, 302);
    assert.equal((await viaOp.client.req('GET', '/auth/me')).body.user.email, email);
    // With a password the identity may go.
    const del = await s.client.req('DELETE', `/auth/identities/${list.body.identities[0].id}`);
    assert.equal(del.status, 204, del.text);
    assert.equal((await s.client.req('GET', '/auth/identities')).body.identities.length, 0);
    // Unlinked, the identity no longer reaches this account (sign-up is open: it makes an account of its own).
    const gone = await signInWith(bed.gh, login);
    assert.equal(gone.r.status, 302);
    assert.notEqual((await gone.client.req('GET', '/auth/me')).body.user.email, email);
  });

  test('unlink refuses the only way in of an account without a password or passkey', async () => {
    const login = opAccount(bed.op, { email: uniqueEmail('oidc-only'), email_verified: true });
    const { client } = await signInWith(bed.gh, login);
    const list = await client.req('GET', '/auth/identities');
    const del = await client.req('DELETE', `/auth/identities/${list.body.identities[0].id}`);
    assert.equal(del.status, 409);
    assert.equal(del.body.code, 'last_way_in');
    assert.equal((await client.req('GET', '/auth/identities')).body.identities.length, 1);
    const other = await client.req('DELETE', '/auth/identities/nope');
    assert.equal(other.status, 404);
  });

  test('an account without a password re-authenticates at its provider (step-up with fed)', async () => {
    const email = uniqueEmail('oidc-reauth');
    const login = opAccount(bed.op, { email, email_verified: true });
    const { client } = await signInWith(bed.gh, login);
    bed.gh.clock.advance(11 * 60_000);
    const list = await client.req('GET', '/auth/identities');
    const stale = await client.req('DELETE', `/auth/identities/${list.body.identities[0].id}`);
    assert.equal(stale.status, 403);
    assert.equal(stale.body.code, 'reauth_required');
    const re = await client.req('POST', '/auth/identities/reauth', { json: { provider: 'op', return_to: '/account' } });
    assert.equal(re.status, 200, re.text);
    const back = await runOpFlow(re.body.authorization_url, login);
    const cb = await client.req('GET', pathOf(back));
    assert.equal(cb.status, 302, cb.text);
    const me = await client.req('GET', '/auth/me');
    assert.equal(Date.parse(me.body.session.auth_time), bed.gh.clock.now());
    assert.deepEqual(me.body.session.amr, ['fed']);
    // Recent again: the last way in is still refused for what it is, not for staleness.
    const del = await client.req('DELETE', `/auth/identities/${list.body.identities[0].id}`);
    assert.equal(del.body.code, 'last_way_in');
    // A reset link sets a first password; then the identity may go.
    const user = await bed.gh.stores.users.getUserByEmail(email.toLowerCase());
    assert.equal(user?.passwordHash, '');
  });
});
