import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { Client, GOOD_PASSWORD, startTestServer, uniqueEmail, type TestServer } from '../support/server.js';

let t: TestServer;
before(async () => {
  t = await startTestServer();
});
after(() => t.close());

const COOKIE = '__Host-gatehouse';
type Res = { status: number; headers: Headers; body: any; text: string };

function assertProblem(r: Res, status: number, code?: string): void {
  assert.equal(r.status, status, `${r.status} ${r.text}`);
  assert.match(r.headers.get('content-type') ?? '', /^application\/problem\+json/);
  assert.equal(typeof r.body.type, 'string');
  assert.equal(typeof r.body.title, 'string');
  assert.equal(r.body.status, status);
  assert.equal(typeof r.body.code, 'string');
  if (code) assert.equal(r.body.code, code);
}

/** Sends raw header bytes (fetch refuses some of what attackers send). */
function rawGet(path: string, headers: Record<string, string | string[]>): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = request(`${t.url}${path}`, { method: 'GET', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        resolve({ status: res.statusCode!, body: text ? JSON.parse(text) : null });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

async function signedIn(): Promise<{ c: Client; email: string }> {
  const email = uniqueEmail('err');
  const c = new Client(t.url);
  assert.equal((await c.req('POST', '/auth/register', { json: { email, password: GOOD_PASSWORD } })).status, 201);
  assert.equal((await c.req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD } })).status, 200);
  return { c, email };
}

describe('bad request bodies', () => {
  test('malformed JSON is 400 invalid_json', async () => {
    for (const body of ['{"email":', '{email: "a"}', 'nope', '']) {
      const r = await new Client(t.url).req('POST', '/auth/login', { body: body || '{', headers: { 'content-type': 'application/json' } });
      assertProblem(r, 400, 'invalid_json');
    }
  });

  test('a JSON body that is not an object is 400 invalid_json', async () => {
    for (const body of ['[]', '"x"', '42', 'null']) {
      const r = await new Client(t.url).req('POST', '/auth/register', { body, headers: { 'content-type': 'application/json' } });
      assertProblem(r, 400, 'invalid_json');
    }
  });

  const wrongValues: Array<[string, unknown]> = [
    ['a number', 42],
    ['an array', ['a@example.com']],
    ['an object', { v: 'a' }],
    ['null', null],
    ['a boolean', true],
    ['missing', undefined],
  ];
  for (const path of ['/auth/register', '/auth/login']) {
    for (const field of ['email', 'password']) {
      for (const [what, value] of wrongValues) {
        test(`${path}: ${field} as ${what} is 400 naming the field`, async () => {
          const body: Record<string, unknown> = { email: uniqueEmail(), password: GOOD_PASSWORD };
          if (value === undefined) delete body[field];
          else body[field] = value;
          const r = await new Client(t.url).req('POST', path, { json: body });
          assertProblem(r, 400, 'invalid_field');
          assert.equal(r.body.field, field);
          assert.match(r.body.detail, new RegExp(field));
        });
      }
    }
  }

  test('text/plain, form-urlencoded and multipart bodies are 415', async () => {
    const payload = JSON.stringify({ email: uniqueEmail(), password: GOOD_PASSWORD });
    for (const ct of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const r = await new Client(t.url).req('POST', '/auth/register', { body: payload, headers: { 'content-type': ct } });
      assertProblem(r, 415, 'unsupported_media_type');
    }
    const none = await fetch(`${t.url}/auth/login`, { method: 'POST', body: new Uint8Array(Buffer.from(payload)) });
    assert.equal(none.status, 415);
  });

  test('a 17 KiB body is 413', async () => {
    const r = await new Client(t.url).req('POST', '/auth/register', { json: { email: uniqueEmail(), password: GOOD_PASSWORD, pad: 'x'.repeat(17 * 1024) } });
    assertProblem(r, 413, 'payload_too_large');
  });

  test('a 1 MB password is 413 or 400, never 5xx, on register and login', async () => {
    for (const path of ['/auth/register', '/auth/login']) {
      const r = await new Client(t.url).req('POST', path, { json: { email: uniqueEmail(), password: 'p'.repeat(1024 * 1024) } });
      assert.ok(r.status === 413 || r.status === 400, `${path}: ${r.status}`);
      assertProblem(r, r.status);
    }
  });

  test('a password over the field bound but inside the body bound is 400 on register and 401 on login, never 5xx', async () => {
    const pw = 'p'.repeat(8 * 1024);
    assertProblem(await new Client(t.url).req('POST', '/auth/register', { json: { email: uniqueEmail(), password: pw } }), 400);
    const r = await new Client(t.url).req('POST', '/auth/login', { json: { email: uniqueEmail(), password: pw } });
    assert.ok(r.status === 400 || r.status === 401, String(r.status));
  });

  test('SQL metacharacters in the email are just data', async () => {
    const email = `o'brien%_${process.pid}@example.com`;
    const other = await signedIn();
    const reg = await new Client(t.url).req('POST', '/auth/register', { json: { email, password: GOOD_PASSWORD } });
    assert.equal(reg.status, 201);
    assert.equal(reg.body.user.email, email);
    const ok = await new Client(t.url).req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD } });
    assert.equal(ok.status, 200);
    assert.equal(ok.body.user.email, email);
    for (const attack of ["' OR '1'='1' --@example.com", `o'brien%@example.com`, `%@example.com`, "x@example.com'; DROP TABLE users; --"]) {
      const r = await new Client(t.url).req('POST', '/auth/login', { json: { email: attack, password: GOOD_PASSWORD } });
      assert.ok(r.status === 401 || r.status === 400, `${attack}: ${r.status}`);
      assertProblem(r, r.status);
      const rr = await new Client(t.url).req('POST', '/auth/register', { json: { email: attack, password: GOOD_PASSWORD } });
      assert.ok(rr.status < 500, `${attack}: ${rr.status}`);
    }
    // Everyone else is untouched.
    assert.equal((await new Client(t.url).req('POST', '/auth/login', { json: { email: other.email, password: GOOD_PASSWORD } })).status, 200);
  });
});

describe('routes', () => {
  test('an unknown route is 404 problem+json', async () => {
    for (const p of ['/nope', '/auth/nope', '/auth/me/extra']) assertProblem(await new Client(t.url).req('GET', p), 404, 'not_found');
  });

  test('a wrong method is 405 with Allow', async () => {
    const cases: Array<[string, string, RegExp]> = [
      ['GET', '/auth/login', /\bPOST\b/],
      ['PUT', '/auth/register', /\bPOST\b/],
      ['DELETE', '/auth/me', /\bGET\b/],
      ['GET', '/auth/logout', /\bPOST\b/],
    ];
    for (const [m, p, allow] of cases) {
      const r = await new Client(t.url).req(m, p);
      assertProblem(r, 405, 'method_not_allowed');
      assert.match(r.headers.get('allow') ?? '', allow, `${m} ${p}`);
    }
  });

  test('GET /healthz is 200', async () => {
    const r = await new Client(t.url).req('GET', '/healthz');
    assert.equal(r.status, 200);
    assert.equal(r.body.status, 'ok');
  });

  test('GET /.well-known/openid-configuration names the issuer and jwks_uri, and the JWKS is served', async () => {
    const r = await new Client(t.url).req('GET', '/.well-known/openid-configuration');
    assert.equal(r.status, 200);
    assert.equal(r.body.issuer, 'http://localhost:3000');
    assert.equal(r.body.jwks_uri, 'http://localhost:3000/.well-known/jwks.json');
    const jwks = await new Client(t.url).req('GET', '/.well-known/jwks.json');
    assert.equal(jwks.status, 200);
    assert.ok(Array.isArray(jwks.body.keys) && jwks.body.keys.length > 0);
    for (const k of jwks.body.keys) assert.equal(k.d, undefined, 'no private key material');
  });
});

describe('hostile cookies are 401, never 5xx', () => {
  test('tampered, truncated, extended, 8 KB, non-ASCII and duplicated session cookies', async () => {
    const { c } = await signedIn();
    const good = c.jar.get(COOKIE)!;
    assert.equal((await rawGet('/auth/me', { cookie: `${COOKIE}=${good}` })).status, 200);
    const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
    const variants: Record<string, string> = {
      'tampered secret': flip(good, good.length - 5),
      'tampered id': flip(good, 3),
      truncated: good.slice(0, -1),
      'truncated to the id': good.split('.')[0]!,
      extended: good + 'A',
      'extra part': `${good}.x`,
      empty: '',
      quoted: `"${flip(good, good.length - 2)}"`,
      '8 KB': 'a'.repeat(8 * 1024),
      'non-ASCII (UTF-8 bytes)': Buffer.from(`${good.slice(0, 10)}é☃𝒳${good.slice(10)}`, 'utf8').toString('latin1'),
      'non-ASCII (latin-1)': good.slice(0, -2) + 'ÿé',
      'control-like': good.replace('.', '%00'),
    };
    for (const [name, v] of Object.entries(variants)) {
      const r = await rawGet('/auth/me', { cookie: `${COOKIE}=${v}` });
      assert.equal(r.status, 401, `${name}: ${r.status}`);
      assert.equal(r.body.code, 'unauthenticated', name);
    }
    // Two cookies of the same name: which one is ours cannot be told, so neither counts.
    for (const header of [`${COOKIE}=${good}; ${COOKIE}=${good}`, `${COOKIE}=${good}; ${COOKIE}=${variants['tampered secret']}`, `${COOKIE}=x; ${COOKIE}=${good}`]) {
      assert.equal((await rawGet('/auth/me', { cookie: header })).status, 401, header.slice(0, 40));
    }
    // The real cookie padded out with other cookies to ~8 KB still works and never fails the server.
    const big = await rawGet('/auth/me', { cookie: `pad=${'z'.repeat(7000)}; ${COOKIE}=${good}` });
    assert.ok(big.status === 200 || big.status === 401, String(big.status));
    // The original session survived all of it.
    assert.equal((await c.req('GET', '/auth/me')).status, 200);
  });
});
