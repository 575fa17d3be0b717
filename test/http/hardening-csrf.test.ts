/**
 * CSRF: cookie-authenticated unsafe requests are judged by Origin / Sec-Fetch-Site, login included;
 * bearer requests and same-origin use pass. Black-box over HTTP.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { configInputFromEnv, resolveConfig } from '../../src/config.js';
import { Client, GOOD_PASSWORD, startTestServer, uniqueEmail, type TestServer } from '../support/server.js';

const PUBLIC = 'https://auth.example.com';
const LISTED = 'https://app.example.com';
const EVIL = 'https://evil.example.net';

let t: TestServer;
before(async () => {
  t = await startTestServer({ config: { publicUrl: PUBLIC, csrf: { allowedOrigins: [LISTED] } } });
});
after(() => t.close());

type Res = Awaited<ReturnType<Client['req']>>;

function assertCsrf(r: Res): void {
  assert.equal(r.status, 403, r.text);
  assert.equal(r.body.code, 'csrf_rejected');
  assert.match(r.headers.get('content-type') ?? '', /^application\/problem\+json/);
  assert.deepEqual(r.headers.getSetCookie(), [], 'a refused request sets no cookie');
}

async function registered(): Promise<string> {
  const email = uniqueEmail('csrf');
  const r = await new Client(t.url).req('POST', '/auth/register', { json: { email, password: GOOD_PASSWORD } });
  assert.equal(r.status, 201);
  return email;
}

async function signedIn(): Promise<Client> {
  const email = await registered();
  const c = new Client(t.url);
  assert.equal((await c.req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD } })).status, 200);
  return c;
}

describe('login CSRF (session mode)', () => {
  test('a cross-site Origin on login is 403 csrf_rejected and sets no cookie', async () => {
    const email = await registered();
    const c = new Client(t.url);
    assertCsrf(await c.req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD }, headers: { origin: EVIL } }));
    assert.equal(c.jar.size, 0);
  });

  test('Origin: null (sandboxed frame, data: URL, some redirects) is refused', async () => {
    const email = await registered();
    assertCsrf(await new Client(t.url).req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD }, headers: { origin: 'null' } }));
  });

  test('an origin that only resembles an allowed one is refused', async () => {
    const email = await registered();
    for (const origin of [`${PUBLIC}.evil.net`, 'http://auth.example.com', 'https://auth.example.com:8443', `${LISTED}x`]) {
      assertCsrf(await new Client(t.url).req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD }, headers: { origin } }));
    }
  });

  test('without Origin, Sec-Fetch-Site cross-site or same-site is refused', async () => {
    const email = await registered();
    for (const site of ['cross-site', 'same-site']) {
      assertCsrf(await new Client(t.url).req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD }, headers: { 'sec-fetch-site': site } }));
    }
  });

  test('an Origin on the request host is still refused when Sec-Fetch-Site says cross-site', async () => {
    const email = await registered();
    const r = await new Client(t.url).req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD }, headers: { origin: t.url, 'sec-fetch-site': 'cross-site' } });
    assertCsrf(r);
  });

  test('registration from a cross-site page is refused too', async () => {
    assertCsrf(await new Client(t.url).req('POST', '/auth/register', { json: { email: uniqueEmail('x'), password: GOOD_PASSWORD }, headers: { origin: EVIL } }));
  });
});

describe('positive controls: legitimate requests pass', () => {
  const cases: Array<[string, () => Record<string, string>]> = [
    ['the public URL origin', () => ({ origin: PUBLIC })],
    ['an origin from GATEHOUSE_ALLOWED_ORIGINS', () => ({ origin: LISTED })],
    ['the origin of the request host itself', () => ({ origin: t.url })],
    ['Sec-Fetch-Site: same-origin without Origin', () => ({ 'sec-fetch-site': 'same-origin' })],
    ['Sec-Fetch-Site: none (typed by the user) without Origin', () => ({ 'sec-fetch-site': 'none' })],
    ['neither header (curl, server-side callers)', () => ({})],
    ['an allowed Origin with Sec-Fetch-Site: cross-site (a listed app on another site)', () => ({ origin: LISTED, 'sec-fetch-site': 'cross-site' })],
  ];
  for (const [name, headers] of cases) {
    test(`session login with ${name} succeeds and sets the cookie`, async () => {
      const email = await registered();
      const c = new Client(t.url);
      const r = await c.req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD }, headers: headers() });
      assert.equal(r.status, 200, r.text);
      assert.ok(c.jar.has('__Host-gatehouse'));
      const me = await c.req('GET', '/auth/me');
      assert.equal(me.status, 200);
    });
  }
});

describe('cookie-authenticated actions', () => {
  test('cross-site logout, logout-all, session revoke and account deletion are refused and the session survives', async () => {
    const c = await signedIn();
    const sessions = await c.req('GET', '/auth/sessions');
    const id = sessions.body.sessions[0].id as string;
    assertCsrf(await c.req('POST', '/auth/logout', { headers: { origin: EVIL } }));
    assertCsrf(await c.req('POST', '/auth/logout-all', { headers: { origin: EVIL } }));
    assertCsrf(await c.req('POST', '/auth/logout-others', { headers: { 'sec-fetch-site': 'cross-site' } }));
    assertCsrf(await c.req('DELETE', `/auth/sessions/${id}`, { headers: { origin: EVIL } }));
    assertCsrf(await c.req('DELETE', '/auth/account', { headers: { origin: 'null' } }));
    assertCsrf(await c.req('POST', '/auth/reauth', { json: { password: GOOD_PASSWORD }, headers: { origin: EVIL } }));
    assert.equal((await c.req('GET', '/auth/me')).status, 200, 'nothing above took effect');
  });

  test('a safe method is not subject to the check (reading is protected by CORS, not CSRF)', async () => {
    const c = await signedIn();
    assert.equal((await c.req('GET', '/auth/me', { headers: { origin: EVIL, 'sec-fetch-site': 'cross-site' } })).status, 200);
  });

  test('same-origin logout works', async () => {
    const c = await signedIn();
    assert.equal((await c.req('POST', '/auth/logout', { headers: { origin: PUBLIC, 'sec-fetch-site': 'same-origin' } })).status, 204);
    assert.equal((await c.req('GET', '/auth/me')).status, 401);
  });

  test('the refresh cookie is cookie authentication: a cross-site refresh is refused, a same-origin one rotates', async () => {
    const email = await registered();
    const c = new Client(t.url);
    const login = await c.req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD, mode: 'token', refresh_transport: 'cookie' } });
    assert.equal(login.status, 200, login.text);
    assert.ok(c.jar.size > 0, 'refresh cookie set');
    assertCsrf(await c.req('POST', '/auth/refresh', { headers: { origin: EVIL } }));
    const ok = await c.req('POST', '/auth/refresh', { headers: { origin: PUBLIC } });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(typeof ok.body.access_token, 'string');
  });
});

describe('bearer requests are not subject to it', () => {
  test('a bearer-authenticated POST with any Origin passes', async () => {
    const email = await registered();
    const login = await new Client(t.url).req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD, mode: 'token' } });
    assert.equal(login.status, 200);
    const bearer = login.body.access_token as string;
    const r = await new Client(t.url).req('POST', '/auth/logout-others', { bearer, headers: { origin: EVIL, 'sec-fetch-site': 'cross-site' } });
    assert.equal(r.status, 200, r.text);
    const rt = await new Client(t.url).req('POST', '/auth/refresh', { json: { refresh_token: login.body.refresh_token }, bearer, headers: { origin: EVIL } });
    assert.equal(rt.status, 200, rt.text);
  });
});

describe('simple content types are refused on JSON endpoints', () => {
  // What a cross-site <form> can send without a preflight, from a browser old enough to omit Origin.
  const bodies: Array<[string, string]> = [
    ['text/plain', '{"email":"a@example.com","password":"correct horse battery staple"}'],
    ['text/plain;charset=UTF-8', '{"email":"a@example.com","password":"x"}'],
    ['application/x-www-form-urlencoded', 'email=a%40example.com&password=correct+horse'],
    ['multipart/form-data; boundary=X', '--X\r\nContent-Disposition: form-data; name="email"\r\n\r\na@example.com\r\n--X--\r\n'],
  ];
  for (const [type, body] of bodies) {
    test(`${type} on login and register is 415 and sets no cookie`, async () => {
      for (const path of ['/auth/login', '/auth/register', '/auth/logout', '/auth/refresh']) {
        const r = await new Client(t.url).req('POST', path, { body, headers: { 'content-type': type } });
        assert.equal(r.status, path === '/auth/logout' ? 401 : 415, `${path}: ${r.text}`);
        assert.deepEqual(r.headers.getSetCookie(), []);
      }
    });
  }

  test('a signed-in form post to logout is refused with 415 and the session survives', async () => {
    const c = await signedIn();
    const r = await c.req('POST', '/auth/logout', { body: 'x=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(r.status, 415, r.text);
    assert.equal((await c.req('GET', '/auth/me')).status, 200);
  });
});

describe('configuration', () => {
  test('GATEHOUSE_ALLOWED_ORIGINS and GATEHOUSE_CORS_ORIGINS are comma-separated origins, normalised; anything else stops start naming the variable', () => {
    const c = resolveConfig(configInputFromEnv({ GATEHOUSE_ALLOWED_ORIGINS: 'https://A.example.com, https://b.example.com:8443/', GATEHOUSE_CORS_ORIGINS: 'https://app.example.com' }));
    assert.deepEqual(c.csrf.allowedOrigins, ['https://a.example.com', 'https://b.example.com:8443']);
    assert.deepEqual(c.cors.origins, ['https://app.example.com']);
    assert.deepEqual(resolveConfig({}).csrf.allowedOrigins, []);
    assert.deepEqual(resolveConfig({}).cors.origins, []);
    for (const bad of ['*', 'null', 'https://app.example.com/login', 'ftp://x.example.com', 'https://u:p@x.example.com', 'app.example.com']) {
      assert.throws(() => resolveConfig(configInputFromEnv({ GATEHOUSE_CORS_ORIGINS: bad })), /GATEHOUSE_CORS_ORIGINS \(cors\.origins\.0\).*not an origin/s, bad);
      assert.throws(() => resolveConfig(configInputFromEnv({ GATEHOUSE_ALLOWED_ORIGINS: bad })), /GATEHOUSE_ALLOWED_ORIGINS.*not an origin/s, bad);
    }
  });
});
