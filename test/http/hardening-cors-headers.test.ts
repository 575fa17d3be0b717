/**
 * CORS from an explicit allow-list (empty by default) and the security headers on every response.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client, GOOD_PASSWORD, startTestServer, uniqueEmail, type TestServer } from '../support/server.js';

const APP = 'https://app.example.com';
const EVIL = 'https://evil.example.net';

const servers: TestServer[] = [];
after(async () => {
  for (const s of servers) await s.close();
});
async function server(config: Record<string, unknown> = {}): Promise<TestServer> {
  const s = await startTestServer({ config });
  servers.push(s);
  return s;
}

function noCors(h: Headers, what: string): void {
  for (const k of ['access-control-allow-origin', 'access-control-allow-credentials', 'access-control-allow-methods']) {
    assert.equal(h.get(k), null, `${what}: ${k}`);
  }
}

const preflight = (c: Client, path: string, origin: string) =>
  c.req('OPTIONS', path, { headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });

describe('CORS with the default (empty) allow-list', () => {
  let t: TestServer;
  before(async () => {
    t = await server();
  });

  test('no origin is reflected or given credentials, on requests and preflights', async () => {
    const c = new Client(t.url);
    for (const origin of [EVIL, APP, 'null', t.url]) {
      noCors((await c.req('GET', '/auth/me', { headers: { origin } })).headers, `GET from ${origin}`);
      const pf = await preflight(c, '/auth/login', origin);
      assert.notEqual(pf.status, 204);
      noCors(pf.headers, `preflight from ${origin}`);
    }
  });
});

describe('CORS with an allow-list', () => {
  let t: TestServer;
  before(async () => {
    t = await server({ cors: { origins: [APP] } });
  });

  test('a preflight from an allowed origin is answered 204 with that exact origin and credentials', async () => {
    const r = await preflight(new Client(t.url), '/auth/login', APP);
    assert.equal(r.status, 204);
    assert.equal(r.headers.get('access-control-allow-origin'), APP);
    assert.equal(r.headers.get('access-control-allow-credentials'), 'true');
    assert.match(r.headers.get('access-control-allow-methods') ?? '', /\bPOST\b/);
    assert.match(r.headers.get('access-control-allow-headers') ?? '', /content-type/i);
    assert.match(r.headers.get('access-control-allow-headers') ?? '', /authorization/i);
    assert.match(r.headers.get('vary') ?? '', /origin/i);
  });

  test('an allowed origin signs in with credentials (CORS and CSRF both accept it) and reads /me', async () => {
    const email = uniqueEmail('cors');
    const c = new Client(t.url);
    assert.equal((await c.req('POST', '/auth/register', { json: { email, password: GOOD_PASSWORD }, headers: { origin: APP } })).status, 201);
    const login = await c.req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD }, headers: { origin: APP, 'sec-fetch-site': 'cross-site' } });
    assert.equal(login.status, 200, login.text);
    assert.equal(login.headers.get('access-control-allow-origin'), APP);
    assert.equal(login.headers.get('access-control-allow-credentials'), 'true');
    const me = await c.req('GET', '/auth/me', { headers: { origin: APP } });
    assert.equal(me.status, 200);
    assert.equal(me.headers.get('access-control-allow-origin'), APP);
  });

  test('an origin not on the list is never reflected and never paired with credentials', async () => {
    const c = new Client(t.url);
    for (const origin of [EVIL, 'null', `${APP}.evil.net`, 'https://app.example.com:444', 'http://app.example.com', `${APP}/`, APP.toUpperCase() + 'X']) {
      noCors((await c.req('GET', '/auth/me', { headers: { origin } })).headers, `GET from ${origin}`);
      const pf = await preflight(c, '/auth/login', origin);
      assert.notEqual(pf.status, 204, origin);
      noCors(pf.headers, `preflight from ${origin}`);
    }
  });

  test('an OPTIONS that is not a preflight is still 405 with Allow', async () => {
    const r = await new Client(t.url).req('OPTIONS', '/auth/login');
    assert.equal(r.status, 405);
    assert.match(r.headers.get('allow') ?? '', /POST/);
  });

  test('the allow-list rejects a malformed origin at start, naming the variable', async () => {
    await assert.rejects(startTestServer({ config: { cors: { origins: ['https://app.example.com/path'] } } }), /cors\.origins|not an origin/);
    await assert.rejects(startTestServer({ config: { csrf: { allowedOrigins: ['*'] } } }), /not an origin/);
  });
});

describe('security headers', () => {
  let t: TestServer;
  before(async () => {
    t = await server();
  });

  const paths: Array<[string, string, unknown?]> = [
    ['GET', '/auth/me'],
    ['POST', '/auth/login', { email: 'nobody@example.com', password: 'wrong password' }],
    ['POST', '/auth/register', { email: 'x', password: 'y' }],
    ['POST', '/auth/refresh', { refresh_token: 'a.b' }],
    ['GET', '/auth/nope'],
    ['PUT', '/auth/login'],
    ['GET', '/healthz'],
    ['GET', '/.well-known/jwks.json'],
    ['GET', '/no-such-page'],
  ];

  for (const [method, path, json] of paths) {
    test(`${method} ${path} carries nosniff and Referrer-Policy: no-referrer`, async () => {
      const r = await new Client(t.url).req(method, path, json === undefined ? {} : { json });
      assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(r.headers.get('referrer-policy'), 'no-referrer');
      assert.equal(r.headers.get('x-powered-by'), null);
      if (path.startsWith('/auth/')) assert.equal(r.headers.get('cache-control'), 'no-store', 'auth responses are never cached');
    });
  }

  // helmet's headers, as configured in src/server/app.ts and sent by the front door (src/server/front.ts)
  // on API responses that no longer pass through Express, as on every other response.
  const HELMET: Record<string, string | RegExp> = {
    'content-security-policy': /^default-src 'self';.*frame-ancestors 'none'/,
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    'origin-agent-cluster': '?1',
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
    'x-dns-prefetch-control': 'off',
    'x-download-options': 'noopen',
    'x-frame-options': 'DENY',
    'x-permitted-cross-domain-policies': 'none',
    'x-xss-protection': '0',
  };
  for (const [method, path] of [['GET', '/auth/me'], ['POST', '/auth/login'], ['GET', '/auth/nope'], ['GET', '/.well-known/jwks.json'], ['GET', '/healthz'], ['GET', '/signin'], ['GET', '/no-such-page']] as const) {
    test(`${method} ${path} carries every security header helmet is configured to send`, async () => {
      const r = await new Client(t.url).req(method, path, method === 'POST' ? { json: { email: 'nobody@example.com', password: 'wrong password' } } : {});
      for (const [name, want] of Object.entries(HELMET)) {
        const got = r.headers.get(name);
        if (typeof want === 'string') assert.equal(got, want, `${name} on ${path}`);
        else assert.match(got ?? '', want, `${name} on ${path}`);
      }
      assert.equal(r.headers.get('x-powered-by'), null);
    });
  }

  test('every auth response with a body or a cookie is no-store: a successful login, me, logout and refresh', async () => {
    const email = uniqueEmail('hdr');
    const c = new Client(t.url);
    const rs = [await c.req('POST', '/auth/register', { json: { email, password: GOOD_PASSWORD } })];
    rs.push(await c.req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD } }));
    rs.push(await c.req('GET', '/auth/me'));
    rs.push(await c.req('GET', '/auth/sessions'));
    rs.push(await c.req('POST', '/auth/logout'));
    const tok = await c.req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD, mode: 'token' } });
    rs.push(tok, await c.req('POST', '/auth/refresh', { json: { refresh_token: tok.body.refresh_token } }));
    for (const r of rs) assert.equal(r.headers.get('cache-control'), 'no-store', `${r.status} ${r.text.slice(0, 80)}`);
  });

  test('HTML gets a strict CSP: same-origin scripts and styles only, no inline code, no objects, no framing', async () => {
    const r = await new Client(t.url).req('GET', '/');
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /text\/html/);
    const csp = r.headers.get('content-security-policy') ?? '';
    const dir = (name: string) => csp.split(';').map((d) => d.trim()).find((d) => d.startsWith(name + ' '));
    assert.equal(dir('script-src'), "script-src 'self'");
    assert.equal(dir('style-src'), "style-src 'self'");
    assert.equal(dir('frame-ancestors'), "frame-ancestors 'none'");
    assert.match(dir('base-uri') ?? '', /'none'|'self'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/);
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(r.headers.get('referrer-policy'), 'no-referrer');
  });

  test('no Strict-Transport-Security over a plain-http public URL; with https it is one year with subdomains', async () => {
    assert.equal((await new Client(t.url).req('GET', '/healthz')).headers.get('strict-transport-security'), null);
    const s = await server({ publicUrl: 'https://auth.example.com' });
    assert.match((await new Client(s.url).req('GET', '/healthz')).headers.get('strict-transport-security') ?? '', /max-age=31536000; includeSubDomains/);
  });
});
