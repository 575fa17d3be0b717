/**
 * The one HTTP suite every adapter passes: Express, Fastify, Hono and plain node:http serve the same
 * routes, status codes, headers and problem bodies, and protect an application's own route the same
 * way. Each adapter's test file only says how to boot Gatehouse through that adapter.
 *
 * Every adapter app mounts Gatehouse at `/auth` (plus `/.well-known/*`) and serves:
 *   GET /api/profile    protected by the adapter's requireAuth/authenticate → `{ id, email, mode, session_id }`
 *   GET /api/public     an ordinary route of the framework → `{ ok: true }`
 *   POST, DELETE /api/notes  requireAuth with its defaults → `{ saved: true, id }`
 *   POST /api/webhook   requireAuth with `{ csrf: false }` → `{ saved: true, id }`
 *   POST /api/greeting  authenticate (signing in optional) → `{ signed_in }`
 * The POST routes accept form bodies (application/x-www-form-urlencoded), as an application would.
 *   GET /api/transfer    protected by requireAuth({ acr: 'aal2', maxAge: '10m' }) → `{ ok: true, acr }`
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createMemoryStores } from '../../src/stores/memory/index.js';
import type { GatehouseOptions } from '../../src/http/gatehouse.js';
import { TestClock } from '../support/clock.js';
import { DbscBrowser, DpopKey, parseRegistration } from '../support/pop.js';
import { CHEAP_HASHING, Client, GOOD_PASSWORD, uniqueEmail } from '../support/server.js';
import { totpCode } from '../support/webauthn.js';

/** The adapters' public URL (the config default): DPoP proofs name it, whatever address the test server listens on. */
const PUBLIC = 'http://localhost:3000';

export interface AdapterServer {
  /** `http://127.0.0.1:PORT` */
  url: string;
  close(): Promise<void>;
}

/** Options every adapter boots with: memory stores and cheap (explicitly allowed) password hashing. */
export function adapterOptions(): GatehouseOptions {
  // No refresh grace window, so a reused refresh token is refused at once.
  return { stores: createMemoryStores(), clock: new TestClock(), config: { databaseUrl: 'memory:', passwordHashing: CHEAP_HASHING, token: { refreshGrace: 0 } } };
}

const SESSION_COOKIE = '__Host-gatehouse';
const REFRESH_COOKIE = '__Secure-gatehouse-refresh';

function assertProblem(r: { status: number; headers: Headers; body: any }, status: number, code: string): void {
  assert.equal(r.status, status, JSON.stringify(r.body));
  assert.match(r.headers.get('content-type') ?? '', /^application\/problem\+json/);
  assert.equal(r.body.code, code);
  assert.equal(r.body.status, status);
  assert.equal(typeof r.body.title, 'string');
}

export function runAdapterSuite(name: string, start: (opts: GatehouseOptions) => Promise<AdapterServer>): void {
  describe(`the ${name} adapter`, () => {
    let srv: AdapterServer;
    let url: string;
    let email: string;
    let clock: TestClock;

    before(async () => {
      const opts = adapterOptions();
      clock = opts.clock as TestClock;
      srv = await start(opts);
      url = srv.url;
      email = uniqueEmail(name.replace(/[^a-z]/gi, ''));
    });
    after(async () => {
      await srv?.close();
    });

    const tokenLogin = async (extra: Record<string, unknown> = {}) => {
      const c = new Client(url);
      const r = await c.req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD, mode: 'token', ...extra } });
      assert.equal(r.status, 200, r.text);
      return { c, r };
    };

    test('registers a user with 201 and the public user', async () => {
      const r = await new Client(url).req('POST', '/auth/register', { json: { email, password: GOOD_PASSWORD } });
      assert.equal(r.status, 201, r.text);
      assert.equal(r.body.user.email, email);
      assert.equal(typeof r.body.user.id, 'string');
      assert.equal(r.body.user.password_hash, undefined);
    });

    test('a session login sets the __Host- cookie and /auth/me answers through it', async () => {
      const c = new Client(url);
      const login = await c.req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD } });
      assert.equal(login.status, 200, login.text);
      const setCookie = login.headers.getSetCookie().find((s) => s.startsWith(`${SESSION_COOKIE}=`));
      assert.ok(setCookie, 'session cookie set');
      assert.match(setCookie!, /HttpOnly/i);
      assert.match(setCookie!, /Secure/i);
      assert.match(setCookie!, /Path=\//);
      assert.equal(login.body.session.mode, 'session');
      const me = await c.req('GET', '/auth/me');
      assert.equal(me.status, 200, me.text);
      assert.equal(me.body.user.email, email);
      assert.equal(me.body.session.id, login.body.session.id);
      assert.equal(me.headers.get('cache-control'), 'no-store');
    });

    test('wrong credentials get the uniform 401 invalid_credentials', async () => {
      const r = await new Client(url).req('POST', '/auth/login', { json: { email, password: 'not the password at all' } });
      assertProblem(r, 401, 'invalid_credentials');
    });

    test('a token login returns a bearer grant that /auth/me accepts', async () => {
      const { r } = await tokenLogin();
      assert.equal(r.body.token_type, 'Bearer');
      assert.equal(typeof r.body.access_token, 'string');
      assert.equal(typeof r.body.refresh_token, 'string');
      assert.equal(r.body.session.mode, 'token');
      const me = await new Client(url).req('GET', '/auth/me', { bearer: r.body.access_token });
      assert.equal(me.status, 200, me.text);
      assert.equal(me.body.session.id, r.body.session.id);
    });

    test('refresh rotates the refresh token; the old one then fails with invalid_grant', async () => {
      const { r } = await tokenLogin();
      const next = await new Client(url).req('POST', '/auth/refresh', { json: { refresh_token: r.body.refresh_token } });
      assert.equal(next.status, 200, next.text);
      assert.notEqual(next.body.refresh_token, r.body.refresh_token);
      assert.equal(next.body.session.id, r.body.session.id);
      const me = await new Client(url).req('GET', '/auth/me', { bearer: next.body.access_token });
      assert.equal(me.status, 200, me.text);
      clock.advance(1000); // past the (zero) grace window: a second use is reuse
      const reused = await new Client(url).req('POST', '/auth/refresh', { json: { refresh_token: r.body.refresh_token } });
      assertProblem(reused, 400, 'invalid_grant');
    });

    test('refresh through the refresh cookie (cookie transport) rotates the cookie', async () => {
      const { c, r } = await tokenLogin({ refresh_transport: 'cookie' });
      assert.equal(r.body.refresh_token, undefined, 'no refresh token in the body');
      const before = c.jar.get(REFRESH_COOKIE);
      assert.ok(before, 'refresh cookie set');
      const next = await c.req('POST', '/auth/refresh', { json: {} });
      assert.equal(next.status, 200, next.text);
      assert.equal(next.body.refresh_token, undefined);
      assert.ok(c.jar.get(REFRESH_COOKIE));
      assert.notEqual(c.jar.get(REFRESH_COOKIE), before);
    });

    test('sessions lists both modes; revoking a token session ends its access token at once', async () => {
      const cookie = new Client(url);
      assert.equal((await cookie.req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD } })).status, 200);
      const { r: tok } = await tokenLogin();
      const list = await cookie.req('GET', '/auth/sessions');
      assert.equal(list.status, 200, list.text);
      const ids = list.body.sessions.map((s: { id: string }) => s.id);
      assert.ok(ids.includes(tok.body.session.id));
      assert.equal(list.body.sessions.filter((s: { current: boolean }) => s.current).length, 1);
      const del = await cookie.req('DELETE', `/auth/sessions/${encodeURIComponent(tok.body.session.id)}`);
      assert.equal(del.status, 204, del.text);
      const me = await new Client(url).req('GET', '/auth/me', { bearer: tok.body.access_token });
      assertProblem(me, 401, 'invalid_token');
    });

    test('logout clears the session cookie and ends the session', async () => {
      const c = new Client(url);
      assert.equal((await c.req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD } })).status, 200);
      const cookie = c.jar.get(SESSION_COOKIE)!;
      const out = await c.req('POST', '/auth/logout');
      assert.equal(out.status, 204, out.text);
      assert.ok(out.headers.getSetCookie().some((s) => s.startsWith(`${SESSION_COOKIE}=`) && /Max-Age=0|Expires=Thu, 01 Jan 1970/i.test(s)));
      const me = await new Client(url).req('GET', '/auth/me', { headers: { cookie: `${SESSION_COOKIE}=${cookie}` } });
      assertProblem(me, 401, 'unauthenticated');
    });

    test("the application's own route is protected by the adapter's requireAuth in both modes", async () => {
      const c = new Client(url);
      const login = await c.req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD } });
      const viaCookie = await c.req('GET', '/api/profile');
      assert.equal(viaCookie.status, 200, viaCookie.text);
      assert.equal(viaCookie.body.email, email);
      assert.equal(viaCookie.body.mode, 'session');
      assert.equal(viaCookie.body.session_id, login.body.session.id);

      const { r } = await tokenLogin();
      const viaBearer = await new Client(url).req('GET', '/api/profile', { bearer: r.body.access_token });
      assert.equal(viaBearer.status, 200, viaBearer.text);
      assert.equal(viaBearer.body.mode, 'token');
      assert.equal(viaBearer.body.id, viaCookie.body.id);

      assertProblem(await new Client(url).req('GET', '/api/profile'), 401, 'unauthenticated');
    });

    test("requireAuth({ acr: 'aal2', maxAge: '10m' }) wants two factors proven in the last ten minutes, in both modes", async () => {
      const who = uniqueEmail('aal2' + name.replace(/[^a-z]/gi, ''));
      assert.equal((await new Client(url).req('POST', '/auth/register', { json: { email: who, password: GOOD_PASSWORD } })).status, 201);
      assertProblem(await new Client(url).req('GET', '/api/transfer'), 401, 'unauthenticated');
      const c = new Client(url);
      assert.equal((await c.req('POST', '/auth/login', { json: { email: who, password: GOOD_PASSWORD } })).status, 200);
      const weak = await c.req('GET', '/api/transfer');
      assertProblem(weak, 403, 'reauth_required');
      assert.equal(weak.body.acr, 'aal2');
      // Enrolling an authenticator app: the confirming code steps this session up to aal2.
      const begin = await c.req('POST', '/auth/mfa/totp', { json: {} });
      assert.equal(begin.status, 200, JSON.stringify(begin.body));
      assert.equal((await c.req('POST', '/auth/mfa/totp/confirm', { json: { code: totpCode(begin.body.secret, clock.now()) } })).status, 200);
      const strong = await c.req('GET', '/api/transfer');
      assert.equal(strong.status, 200, JSON.stringify(strong.body));
      assert.equal(strong.body.acr, 'aal2');

      // Token mode: password + code, then the same route with the bearer token.
      clock.advance(30_000);
      const step = await new Client(url).req('POST', '/auth/login', { json: { email: who, password: GOOD_PASSWORD, mode: 'token' } });
      assertProblem(step, 401, 'mfa_required');
      const done = await new Client(url).req('POST', '/auth/login/mfa', { json: { mfa_token: step.body.mfa_token, totp: totpCode(begin.body.secret, clock.now()) } });
      assert.equal(done.status, 200, JSON.stringify(done.body));
      assert.equal((await new Client(url).req('GET', '/api/transfer', { bearer: done.body.access_token })).status, 200);

      // Eleven minutes on, both are too old: 403 again (a refreshed token keeps its auth_time).
      clock.advance(11 * 60_000);
      assertProblem(await c.req('GET', '/api/transfer'), 403, 'reauth_required');
      const r = await new Client(url).req('POST', '/auth/refresh', { json: { refresh_token: done.body.refresh_token } });
      assert.equal(r.status, 200);
      assertProblem(await new Client(url).req('GET', '/api/transfer', { bearer: r.body.access_token }), 403, 'reauth_required');
      // A step-up with the next code makes the cookie session fresh again.
      clock.advance(30_000);
      assert.equal((await c.req('POST', '/auth/reauth', { json: { totp: totpCode(begin.body.secret, clock.now()) } })).status, 200);
      assert.equal((await c.req('GET', '/api/transfer')).status, 200);
    });

    test('a bad bearer token on a protected route gets 401 invalid_token with WWW-Authenticate', async () => {
      for (const path of ['/api/profile', '/auth/me']) {
        const r = await new Client(url).req('GET', path, { bearer: 'eyJhbGciOiJub25lIn0.e30.' });
        assertProblem(r, 401, 'invalid_token');
        assert.equal(r.headers.get('www-authenticate'), 'Bearer error="invalid_token"');
      }
    });

    test("DPoP: requireAuth() and Gatehouse's own routes take a bound token only with a fresh proof of its key", async () => {
      const key = await DpopKey.create('ES256', () => clock.now());
      const login = await new Client(url).req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD, mode: 'token' }, headers: { dpop: await key.proof({ htm: 'POST', htu: `${PUBLIC}/auth/login` }) } });
      assert.equal(login.status, 200, login.text);
      assert.equal(login.body.token_type, 'DPoP');
      const access = login.body.access_token as string;
      for (const path of ['/api/profile', '/auth/me']) {
        const proof = () => key.proof({ htm: 'GET', htu: `${PUBLIC}${path}`, accessToken: access });
        const ok = await new Client(url).req('GET', path, { headers: { authorization: `DPoP ${access}`, dpop: await proof() } });
        assert.equal(ok.status, 200, `${path}: ${ok.text}`);
        assertProblem(await new Client(url).req('GET', path, { bearer: access }), 401, 'invalid_token');
        const none = await new Client(url).req('GET', path, { headers: { authorization: `DPoP ${access}` } });
        assertProblem(none, 401, 'invalid_dpop_proof');
        assert.match(none.headers.get('www-authenticate') ?? '', /^DPoP error="invalid_dpop_proof".*algs="ES256 EdDSA"/);
        const elsewhere = await key.proof({ htm: 'GET', htu: `${PUBLIC}/api/public`, accessToken: access });
        assertProblem(await new Client(url).req('GET', path, { headers: { authorization: `DPoP ${access}`, dpop: elsewhere } }), 401, 'invalid_dpop_proof');
        const used = await proof();
        assert.equal((await new Client(url).req('GET', path, { headers: { authorization: `DPoP ${access}`, dpop: used } })).status, 200);
        assertProblem(await new Client(url).req('GET', path, { headers: { authorization: `DPoP ${access}`, dpop: used } }), 401, 'invalid_dpop_proof');
      }
    });

    test('DBSC: a registered browser needs its bound cookie on the application route too', async () => {
      const c = new Client(url);
      const login = await c.req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD } });
      const offer = parseRegistration(login.headers.get('secure-session-registration'));
      assert.ok(offer, 'registration offered');
      const browser = await DbscBrowser.create(() => clock.now());
      const reg = await c.req('POST', offer.path, { headers: { 'secure-session-response': DbscBrowser.header(await browser.registrationProof(offer.challenge)) } });
      assert.equal(reg.status, 200, reg.text);
      assert.equal((await c.req('GET', '/api/profile')).status, 200);
      const longOnly = new Client(url);
      longOnly.jar.set(SESSION_COOKIE, c.jar.get(SESSION_COOKIE)!);
      assertProblem(await longOnly.req('GET', '/api/profile'), 401, 'unauthenticated');
    });

    test('a forged session cookie gets 401 unauthenticated and the cookie cleared', async () => {
      const r = await new Client(url).req('GET', '/api/profile', { headers: { cookie: `${SESSION_COOKIE}=forged.value` } });
      assertProblem(r, 401, 'unauthenticated');
      assert.ok(r.headers.getSetCookie().some((s) => s.startsWith(`${SESSION_COOKIE}=`)));
    });

    describe('CSRF on application routes', () => {
      const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
      const EVIL = 'https://evil.example';
      let cookie: Client;
      let userId: string;
      let access: string;
      before(async () => {
        cookie = new Client(url);
        const login = await cookie.req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD } });
        assert.equal(login.status, 200, login.text);
        userId = login.body.user.id;
        access = (await tokenLogin()).r.body.access_token;
      });
      const post = (path: string, headers: Record<string, string>, c = cookie) => c.req('POST', path, { body: 'title=pwned', headers: { ...FORM, ...headers } });

      test('a cross-site form post with the session cookie gets 403 csrf_rejected from requireAuth', async () => {
        assertProblem(await post('/api/notes', { origin: EVIL, 'sec-fetch-site': 'cross-site' }), 403, 'csrf_rejected');
        assertProblem(await post('/api/notes', { origin: EVIL }), 403, 'csrf_rejected');
        assertProblem(await post('/api/notes', { origin: 'null' }), 403, 'csrf_rejected');
        // No Origin, but the browser says the request came from another site (a sibling subdomain is same-site).
        assertProblem(await post('/api/notes', { 'sec-fetch-site': 'same-site' }), 403, 'csrf_rejected');
        assertProblem(await cookie.req('DELETE', '/api/notes', { headers: { origin: EVIL } }), 403, 'csrf_rejected');
        assert.equal((await cookie.req('DELETE', '/api/notes', { headers: { origin: url } })).status, 200);
        // The session itself is untouched.
        assert.equal((await cookie.req('GET', '/api/profile')).status, 200);
      });

      test('the same post from the same origin, or from a non-browser client (no Origin, no Sec-Fetch-Site), gets 200', async () => {
        const same = await post('/api/notes', { origin: url, 'sec-fetch-site': 'same-origin' });
        assert.equal(same.status, 200, same.text);
        assert.deepEqual(same.body, { saved: true, id: userId });
        const curl = await post('/api/notes', {});
        assert.equal(curl.status, 200, curl.text);
      });

      test('a cross-site request with a bearer token is allowed (a page cannot forge the header)', async () => {
        const r = await new Client(url).req('POST', '/api/notes', { body: 'title=x', bearer: access, headers: { ...FORM, origin: EVIL, 'sec-fetch-site': 'cross-site' } });
        assert.equal(r.status, 200, r.text);
        assert.equal(r.body.id, userId);
      });

      test('a route that turned the check off takes the cross-site cookie post', async () => {
        const r = await post('/api/webhook', { origin: EVIL, 'sec-fetch-site': 'cross-site' });
        assert.equal(r.status, 200, r.text);
        assert.equal(r.body.id, userId);
      });

      test('authenticate leaves a cross-site cookie post signed out, and a same-origin one signed in', async () => {
        const cross = await post('/api/greeting', { origin: EVIL, 'sec-fetch-site': 'cross-site' });
        assert.equal(cross.status, 200, cross.text);
        assert.deepEqual(cross.body, { signed_in: false });
        const same = await post('/api/greeting', { origin: url });
        assert.deepEqual(same.body, { signed_in: true });
      });

      test('safe methods and requests without a credential are not affected', async () => {
        assert.equal((await cookie.req('GET', '/api/profile', { headers: { origin: EVIL, 'sec-fetch-site': 'cross-site' } })).status, 200);
        assertProblem(await new Client(url).req('POST', '/api/notes', { body: 'x=1', headers: { ...FORM, origin: EVIL } }), 401, 'unauthenticated');
      });
    });

    test('an ordinary route of the framework is untouched', async () => {
      const r = await new Client(url).req('GET', '/api/public');
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.body, { ok: true });
    });

    test('malformed JSON gets 400 invalid_json', async () => {
      const r = await new Client(url).req('POST', '/auth/login', { body: '{"email":', headers: { 'content-type': 'application/json' } });
      assertProblem(r, 400, 'invalid_json');
    });

    test('a non-JSON body gets 415 unsupported_media_type', async () => {
      const r = await new Client(url).req('POST', '/auth/login', { body: 'email=a', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      assertProblem(r, 415, 'unsupported_media_type');
    });

    test('an oversized body gets 413 payload_too_large', async () => {
      const r = await new Client(url).req('POST', '/auth/login', { json: { email, password: 'x'.repeat(64 * 1024) } });
      assertProblem(r, 413, 'payload_too_large');
    });

    test('the wrong method on a known path gets 405 with Allow', async () => {
      const r = await new Client(url).req('GET', '/auth/login');
      assertProblem(r, 405, 'method_not_allowed');
      assert.match(r.headers.get('allow') ?? '', /POST/);
      const put = await new Client(url).req('PUT', '/auth/me', { json: {} });
      assertProblem(put, 405, 'method_not_allowed');
      assert.match(put.headers.get('allow') ?? '', /GET/);
    });

    test('an unknown path under /auth gets a 404 problem', async () => {
      assertProblem(await new Client(url).req('GET', '/auth/no-such-route'), 404, 'not_found');
      assertProblem(await new Client(url).req('POST', '/auth/login/extra', { json: {} }), 404, 'not_found');
    });

    test('query strings reach the route (events paging) through the adapter', async () => {
      const { r } = await tokenLogin();
      const page = await new Client(url).req('GET', '/auth/events?limit=1', { bearer: r.body.access_token });
      assert.equal(page.status, 200, page.text);
      assert.equal(page.body.events.length, 1);
      const bad = await new Client(url).req('GET', '/auth/events?limit=0', { bearer: r.body.access_token });
      assertProblem(bad, 400, 'invalid_field');
    });

    test('a path that only starts with the mount path is left to the application', async () => {
      const r = await new Client(url).req('GET', '/authority');
      assert.equal(r.status, 404);
      assert.doesNotMatch(r.headers.get('content-type') ?? '', /problem\+json/);
    });

    test('HEAD on a GET route answers like GET without a body', async () => {
      const r = await new Client(url).req('HEAD', '/.well-known/jwks.json');
      assert.equal(r.status, 200);
      assert.equal(r.text, '');
      const me = await new Client(url).req('HEAD', '/auth/me');
      assert.equal(me.status, 401);
    });

    test('the JWKS and discovery documents are served at the root', async () => {
      const jwks = await new Client(url).req('GET', '/.well-known/jwks.json');
      assert.equal(jwks.status, 200, jwks.text);
      assert.ok(Array.isArray(jwks.body.keys) && jwks.body.keys.length > 0);
      const disc = await new Client(url).req('GET', '/.well-known/openid-configuration');
      assert.equal(disc.status, 200, disc.text);
      assert.match(disc.body.jwks_uri, /\/\.well-known\/jwks\.json$/);
    });

    test('the revocation list is served at the root with its ETag, and 304 for that ETag', async () => {
      const list = await new Client(url).req('GET', '/.well-known/gatehouse-revocations');
      assert.equal(list.status, 200, list.text);
      assert.equal(list.body.hash, 'sha256-128');
      const etag = list.headers.get('etag');
      assert.ok(etag);
      const same = await new Client(url).req('GET', '/.well-known/gatehouse-revocations', { headers: { 'if-none-match': etag } });
      assert.equal(same.status, 304);
      assert.equal(same.text, '');
      assert.equal(same.headers.get('etag'), etag);
    });
  });
}
