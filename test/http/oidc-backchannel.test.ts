/**
 * OpenID Connect Back-Channel Logout across instances: two Gatehouse servers on one store (behind a
 * load balancer), sessions opened through the provider on both, in both transports; the person logs
 * out at the provider, the provider posts its logout token to one instance, and every session of
 * that provider session ends on both instances through the revocation feed. Another sign-in of the
 * same person (another provider session) is ended only by a logout naming the subject.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { createMemoryStores } from '../../src/stores/memory/index.js';
import { CLIENT_ID, OpBrowser, opAccount, pathOf, runOpFlow, startAt, startOidcBed, type OidcBed } from '../support/oidc.js';
import { logoutAtOp } from '../support/oidc-op.js';
import { Client, startTestServer, uniqueEmail, type TestServer } from '../support/server.js';

describe('back-channel logout from the provider', () => {
  let bed: OidcBed;
  let b: TestServer;
  before(async () => {
    const stores = createMemoryStores();
    bed = await startOidcBed({ stores });
    // Instance B: the same deployment (same public URL, provider and store), another process's caches.
    b = await startTestServer({ stores, config: { publicUrl: bed.publicUrl, oidc: { providers: bed.providers } } as never });
  });
  after(async () => {
    await b?.close();
    await bed?.close();
  });

  /** Signs in at the provider with `browser` (its session there), on Gatehouse instance `gh`. */
  async function signIn(gh: TestServer, login: string, browser: OpBrowser, mode: 'session' | 'token') {
    const client = new Client(gh.url);
    const back = await runOpFlow(await startAt(client, `mode=${mode}`), login, browser);
    const r = await client.req('GET', pathOf(back));
    assert.equal(r.status, 302, r.text);
    if (mode === 'session') return { client, bearer: null as string | null };
    const code = decodeURIComponent(r.headers.get('location')!.split('#code=')[1]!);
    const ex = await new Client(gh.url).req('POST', '/auth/oidc/exchange', { json: { code } });
    assert.equal(ex.status, 200, ex.text);
    return { client, bearer: ex.body.access_token as string };
  }

  const onB = (c: Client) => {
    const x = new Client(b.url);
    x.jar = c.jar;
    return x;
  };

  test('a logout at the provider ends the sessions of that provider session on both instances, in both transports', async () => {
    const login = opAccount(bed.op, { email: uniqueEmail('bcl'), email_verified: true });
    const atOp = new OpBrowser();
    const cookieOnA = await signIn(bed.gh, login, atOp, 'session');
    const tokenOnB = await signIn(b, login, atOp, 'token');
    // Another provider session of the same person (another browser there) stays.
    const elsewhere = await signIn(bed.gh, login, new OpBrowser(), 'session');
    // Both instances have validated (and cached) every credential.
    assert.equal((await onB(cookieOnA.client).req('GET', '/auth/me')).status, 200);
    assert.equal((await new Client(b.url).req('GET', '/auth/me', { bearer: tokenOnB.bearer! })).status, 200);
    assert.equal((await new Client(bed.gh.url).req('GET', '/auth/me', { bearer: tokenOnB.bearer! })).status, 200);
    const before = bed.op.logouts.length;
    await logoutAtOp(bed.op, atOp);
    assert.equal(bed.op.logouts.length, before + 1, 'the provider delivered one logout token');
    assert.equal(bed.op.logouts.at(-1)!.status, 200, bed.op.logouts.at(-1)!.error);
    assert.equal((await cookieOnA.client.req('GET', '/auth/me')).status, 401, 'cookie session on A');
    assert.equal((await onB(cookieOnA.client).req('GET', '/auth/me')).status, 401, 'the same cookie on B');
    const waitB = Date.now() + 5000;
    let bearerOnB = 200;
    while (Date.now() < waitB && (bearerOnB = (await new Client(b.url).req('GET', '/auth/me', { bearer: tokenOnB.bearer! })).status) === 200) await new Promise((r) => setTimeout(r, 20));
    assert.equal(bearerOnB, 401, 'access token on B');
    assert.equal((await new Client(bed.gh.url).req('GET', '/auth/me', { bearer: tokenOnB.bearer! })).status, 401, 'access token on A');
    assert.equal((await elsewhere.client.req('GET', '/auth/me')).status, 200, 'another provider session is not ended');
  });

  test('a logout token naming only the subject ends every session the person opened through the provider', async () => {
    const login = opAccount(bed.op, { email: uniqueEmail('bcl-sub'), email_verified: true });
    const one = await signIn(bed.gh, login, new OpBrowser(), 'session');
    const two = await signIn(b, login, new OpBrowser(), 'session');
    const now = Math.floor(Date.now() / 1000);
    const token = await bed.op.sign({ iss: bed.op.issuer, aud: CLIENT_ID, iat: now, jti: randomUUID(), sub: login, events: { 'http://schemas.openid.net/event/backchannel-logout': {} } }, 'logout+jwt');
    const r = await fetch(`${b.url}/auth/oidc/op/backchannel-logout`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ logout_token: token }) });
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { ended: 2 });
    assert.equal((await one.client.req('GET', '/auth/me')).status, 401);
    assert.equal((await onB(one.client).req('GET', '/auth/me')).status, 401);
    assert.equal((await two.client.req('GET', '/auth/me')).status, 401);
  });
});
