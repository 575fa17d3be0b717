/**
 * Attacks on the identity-provider way in, each refused with an RFC 9457 problem and no session:
 * state missing or mismatched, a callback replayed, an injected code, a nonce, issuer or audience
 * that is not this sign-in's, a mix-up (`iss` of another provider), an unverified address taking
 * over an account, an open redirect through `return_to`, a link finished in another person's browser
 * (login CSRF), and a replayed back-channel logout token.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { cookieLogin, register } from '../support/flows.js';
import { CLIENT_ID, CLIENT_SECRET, opAccount, pathOf, runOpFlow, signInWith, startAt, startOidcBed, type OidcBed } from '../support/oidc.js';
import { startTestOp, type TestOp } from '../support/oidc-op.js';
import { Client, uniqueEmail } from '../support/server.js';

type Res = Awaited<ReturnType<Client['req']>>;

/** Refused: the problem, no session cookie set, and nobody signed in in that browser. */
async function assertRefused(client: Client, r: Res, status: number, code: string, detail?: RegExp) {
  assert.equal(r.status, status, r.text);
  assert.match(r.headers.get('content-type') ?? '', /^application\/problem\+json/);
  assert.equal(r.body.code, code);
  if (detail) assert.match(r.body.detail ?? '', detail);
  assert.ok(!r.headers.getSetCookie().some((c) => c.startsWith('__Host-gatehouse=')), 'no session cookie');
  assert.equal((await client.req('GET', '/auth/me')).status, 401);
}

describe('attacks on signing in with an OpenID Provider', () => {
  let bed: OidcBed;
  let evil: TestOp;
  before(async () => {
    // A second provider, configured too: its `iss` must never be accepted for the first one's flow.
    evil = await startTestOp({ clients: [{ client_id: CLIENT_ID, client_secret: CLIENT_SECRET, redirect_uris: ['http://127.0.0.1:1/unused'] }] });
    bed = await startOidcBed({ extraProviders: () => [{ id: 'op2', name: 'Other', issuer: evil.issuer, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, unsafeAllowHttp: true, signUp: true }] });
  });
  after(async () => {
    await bed?.close();
    await evil?.close();
  });

  const person = () => opAccount(bed.op, { email: uniqueEmail('victim-op'), email_verified: true });

  /** A callback URL of a completed login at the provider, not yet visited. */
  async function pendingCallback(client: Client, query = 'mode=session') {
    const authUrl = await startAt(client, query);
    return new URL(await runOpFlow(authUrl, person()));
  }

  test('a callback without state is refused', async () => {
    const c = new Client(bed.gh.url);
    const back = await pendingCallback(c);
    back.searchParams.delete('state');
    await assertRefused(c, await c.req('GET', pathOf(back.href)), 400, 'oidc_callback_invalid', /no state/);
  });

  test('a callback whose state is not the one of this browser’s sign-in is refused', async () => {
    const c = new Client(bed.gh.url);
    const back = await pendingCallback(c);
    back.searchParams.set('state', 'x'.repeat(43));
    await assertRefused(c, await c.req('GET', pathOf(back.href)), 400, 'oidc_callback_invalid', /state/);
  });

  test('a callback in a browser that started no sign-in (no flow cookie) is refused: login CSRF', async () => {
    const attacker = new Client(bed.gh.url);
    const back = await pendingCallback(attacker);
    const victim = new Client(bed.gh.url);
    await assertRefused(victim, await victim.req('GET', pathOf(back.href)), 400, 'oidc_callback_invalid', /started in this browser/);
  });

  test('a callback replayed (the same code twice) is refused the second time', async () => {
    const c = new Client(bed.gh.url);
    const back = await pendingCallback(c);
    const jar = new Map(c.jar);
    assert.equal((await c.req('GET', pathOf(back.href))).status, 302);
    const replay = new Client(bed.gh.url);
    replay.jar = jar; // even with the flow cookie the first visit had
    await assertRefused(replay, await replay.req('GET', pathOf(back.href)), 400, 'oidc_callback_invalid');
  });

  test('a code injected into another sign-in (its own state, a stolen code) is refused at the token endpoint by PKCE', async () => {
    const victim = new Client(bed.gh.url);
    const stolen = await pendingCallback(victim);
    const attacker = new Client(bed.gh.url);
    const own = await pendingCallback(attacker);
    own.searchParams.set('code', stolen.searchParams.get('code')!);
    await assertRefused(attacker, await attacker.req('GET', pathOf(own.href)), 400, 'oidc_callback_invalid', /authorization code/);
  });

  test('an ID token whose nonce is not this sign-in’s is refused', async () => {
    const c = new Client(bed.gh.url);
    const authUrl = new URL(await startAt(c));
    // The request was altered on its way to the provider: the provider signs another nonce.
    authUrl.searchParams.set('nonce', 'nonce-of-another-sign-in');
    const back = await runOpFlow(authUrl.href, person());
    await assertRefused(c, await c.req('GET', pathOf(back)), 400, 'oidc_callback_invalid', /nonce/);
  });

  test('an ID token for another audience is refused', async () => {
    const c = new Client(bed.gh.url);
    const back = await pendingCallback(c);
    bed.op.tamperIdToken = (claims) => ({ ...claims, aud: 'another-client' });
    try {
      await assertRefused(c, await c.req('GET', pathOf(back.href)), 400, 'oidc_callback_invalid', /aud/);
    } finally {
      bed.op.tamperIdToken = null;
    }
  });

  test('an ID token from another issuer is refused', async () => {
    const c = new Client(bed.gh.url);
    const back = await pendingCallback(c);
    bed.op.tamperIdToken = (claims) => ({ ...claims, iss: evil.issuer });
    try {
      await assertRefused(c, await c.req('GET', pathOf(back.href)), 400, 'oidc_callback_invalid', /issuer|iss/);
    } finally {
      bed.op.tamperIdToken = null;
    }
  });

  test('an expired ID token is refused', async () => {
    const c = new Client(bed.gh.url);
    const back = await pendingCallback(c);
    const past = Math.floor(Date.now() / 1000) - 3600;
    bed.op.tamperIdToken = (claims) => ({ ...claims, iat: past - 60, exp: past });
    try {
      await assertRefused(c, await c.req('GET', pathOf(back.href)), 400, 'oidc_callback_invalid', /expired/);
    } finally {
      bed.op.tamperIdToken = null;
    }
  });

  test('mix-up: a response naming another configured provider as its issuer (RFC 9207 iss) is refused', async () => {
    const c = new Client(bed.gh.url);
    const back = await pendingCallback(c);
    back.searchParams.set('iss', evil.issuer);
    await assertRefused(c, await c.req('GET', pathOf(back.href)), 400, 'oidc_callback_invalid', /issuer|iss/);
  });

  test('mix-up: a response for one provider’s sign-in sent to another provider’s callback is refused', async () => {
    const c = new Client(bed.gh.url);
    const back = await pendingCallback(c);
    const to = `/auth/oidc/op2/callback${back.search}`;
    await assertRefused(c, await c.req('GET', to), 400, 'oidc_callback_invalid', /another provider/);
  });

  test('an unverified address at the provider cannot take over the local account that has it', async () => {
    const email = uniqueEmail('takeover');
    const victimId = await register(bed.gh, email);
    const login = opAccount(bed.op, { email, email_verified: false });
    const { client, r } = await signInWith(bed.gh, login);
    await assertRefused(client, r, 403, 'oidc_email_unverified');
    assert.equal(await bed.gh.stores.identities.getIdentity('op', login), null);
    assert.deepEqual(await bed.gh.stores.identities.listIdentities(victimId), []);
    assert.deepEqual(await bed.gh.stores.sessions.listSessionsByUser(victimId, Date.now()), []);
  });

  test('a verified address at the provider is never linked to the local account that has it either', async () => {
    const email = uniqueEmail('no-autolink');
    const victimId = await register(bed.gh, email);
    const login = opAccount(bed.op, { email, email_verified: true });
    const { client, r } = await signInWith(bed.gh, login);
    await assertRefused(client, r, 409, 'oidc_account_exists', /link/);
    assert.deepEqual(await bed.gh.stores.identities.listIdentities(victimId), []);
    assert.deepEqual(await bed.gh.stores.sessions.listSessionsByUser(victimId, Date.now()), []);
  });

  for (const target of ['https://evil.example', '//evil.example', '/\\evil.example', 'javascript:alert(1)', 'evil.example/x']) {
    test(`return_to=${target} is refused before anything starts`, async () => {
      const c = new Client(bed.gh.url);
      const r = await c.req('GET', `/auth/oidc/op/start?return_to=${encodeURIComponent(target)}`);
      assert.equal(r.status, 400);
      assert.equal(r.body.code, 'invalid_field');
      assert.equal(r.body.field, 'return_to');
      assert.equal(r.headers.get('location'), null);
      assert.ok(!c.jar.has('__Host-gatehouse-oidc'));
    });
  }

  test('a link callback completed in another user’s browser links nothing (login CSRF)', async () => {
    const attackerEmail = uniqueEmail('attacker');
    await register(bed.gh, attackerEmail);
    const attacker = await cookieLogin(bed.gh, attackerEmail);
    const victimEmail = uniqueEmail('victim');
    const victimId = await register(bed.gh, victimEmail);
    const victim = await cookieLogin(bed.gh, victimEmail);
    const attackerAtOp = opAccount(bed.op, { email: uniqueEmail('attacker-op'), email_verified: true });
    const link = await attacker.client.req('POST', '/auth/identities/link', { json: { provider: 'op' } });
    assert.equal(link.status, 200, link.text);
    const back = await runOpFlow(link.body.authorization_url, attackerAtOp);
    // The victim is lured to the attacker's callback URL: their browser has no flow cookie of it.
    const r1 = await victim.client.req('GET', pathOf(back));
    assert.equal(r1.status, 400);
    assert.equal(r1.body.code, 'oidc_callback_invalid');
    // Even with a link of their own pending, the state is not theirs.
    const own = await victim.client.req('POST', '/auth/identities/link', { json: { provider: 'op' } });
    assert.equal(own.status, 200);
    const r2 = await victim.client.req('GET', pathOf(back));
    assert.equal(r2.status, 400);
    assert.equal(r2.body.code, 'oidc_callback_invalid');
    // And with the attacker's flow cookie planted in the victim's browser, the link belongs to the attacker's session.
    victim.client.jar.set('__Host-gatehouse-oidc', attacker.client.jar.get('__Host-gatehouse-oidc')!);
    const r3 = await victim.client.req('GET', pathOf(back));
    assert.equal(r3.status, 400);
    assert.match(r3.body.detail, /another session/);
    assert.deepEqual(await bed.gh.stores.identities.listIdentities(victimId), []);
    assert.equal(await bed.gh.stores.identities.getIdentity('op', attackerAtOp), null);
    assert.equal((await victim.client.req('GET', '/auth/me')).body.user.email, victimEmail, 'the victim stays who they are');
  });

  test('a replayed back-channel logout token is refused', async () => {
    const login = person();
    const { client } = await signInWith(bed.gh, login);
    const now = Math.floor(Date.now() / 1000);
    const token = await bed.op.sign({ iss: bed.op.issuer, aud: CLIENT_ID, iat: now, jti: randomUUID(), sub: login, events: { 'http://schemas.openid.net/event/backchannel-logout': {} } }, 'logout+jwt');
    const post = () => fetch(`${bed.gh.url}/auth/oidc/op/backchannel-logout`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ logout_token: token }) });
    const first = await post();
    assert.equal(first.status, 200, await first.clone().text());
    assert.deepEqual(await first.json(), { ended: 1 });
    assert.equal((await client.req('GET', '/auth/me')).status, 401);
    const again = await post();
    assert.equal(again.status, 400);
    const body = (await again.json()) as { code: string; error: string; detail: string };
    assert.equal(body.code, 'invalid_logout_token');
    assert.equal(body.error, 'invalid_request');
    assert.match(body.detail, /jti/);
  });

  test('logout tokens that are not logout tokens are refused: an ID token, no event, a nonce, another audience, another key', async () => {
    const now = Math.floor(Date.now() / 1000);
    const base = { iss: bed.op.issuer, aud: CLIENT_ID, iat: now, sub: 'someone', events: { 'http://schemas.openid.net/event/backchannel-logout': {} } };
    const cases: Array<[string, Promise<string>]> = [
      ['no event', bed.op.sign({ ...base, jti: randomUUID(), events: undefined })],
      ['nonce', bed.op.sign({ ...base, jti: randomUUID(), nonce: 'n' })],
      ['audience', bed.op.sign({ ...base, jti: randomUUID(), aud: 'another-client' })],
      ['issuer', bed.op.sign({ ...base, jti: randomUUID(), iss: evil.issuer })],
      ['old', bed.op.sign({ ...base, jti: randomUUID(), iat: now - 3600 })],
      ['no jti', bed.op.sign({ ...base })],
      ['other key', evil.sign({ ...base, jti: randomUUID() })],
      ['no sid or sub', bed.op.sign({ ...base, sub: undefined, jti: randomUUID() })],
    ];
    for (const [name, t] of cases) {
      const r = await fetch(`${bed.gh.url}/auth/oidc/op/backchannel-logout`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ logout_token: await t }) });
      assert.equal(r.status, 400, name);
      assert.equal(((await r.json()) as { code: string }).code, 'invalid_logout_token', name);
    }
    const garbage = await fetch(`${bed.gh.url}/auth/oidc/op/backchannel-logout`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'logout_token=not.a.jwt' });
    assert.equal(garbage.status, 400);
    const json = await fetch(`${bed.gh.url}/auth/oidc/op/backchannel-logout`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(json.status, 415);
  });

  test('an unknown provider is 404, and bad start input is a 400 problem', async () => {
    const c = new Client(bed.gh.url);
    assert.equal((await c.req('GET', '/auth/oidc/nope/start')).status, 404);
    assert.equal((await c.req('GET', '/auth/oidc/nope/callback?state=x')).status, 404);
    const bad = await c.req('GET', '/auth/oidc/op/start?mode=weird');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.field, 'mode');
    const jkt = await c.req('GET', '/auth/oidc/op/start?mode=session&dpop_jkt=abc');
    assert.equal(jkt.status, 400);
    assert.equal(jkt.body.field, 'dpop_jkt');
  });
});
