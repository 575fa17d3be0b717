/**
 * Property-based fuzzing of every endpoint over HTTP (fast-check): random and malformed methods,
 * paths, headers, cookies, bearer tokens, content types and bodies. Properties:
 * - never a 5xx;
 * - the process never dies (the server still answers /healthz afterwards);
 * - no response header carries input from the client (a marker planted in every input never
 *   appears in any response header).
 * Bounded: 2,000 requests in all, one at a time, with the brute-force limits on (with budgets large
 * enough that the requests reach the routes).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { Client, GOOD_PASSWORD, startTestServer, uniqueEmail, type TestServer } from '../support/server.js';

const RUNS = 2000;
const MARK = `zqmark${randomBytes(5).toString('hex')}`;
const EMAIL = uniqueEmail('fuzz');

let t: TestServer;
const real = { cookie: '', bearer: '', refresh: '', sessionId: '' };

before(async () => {
  t = await startTestServer({
    config: { rateLimits: { enabled: true, ipRequests: 1_000_000, ipFailures: 1_000_000, accountAttempts: 1000 }, cors: { origins: ['https://app.example.com'] } },
  });
  const c = new Client(t.url);
  assert.equal((await c.req('POST', '/auth/register', { json: { email: EMAIL, password: GOOD_PASSWORD } })).status, 201);
  const s = await c.req('POST', '/auth/login', { json: { email: EMAIL, password: GOOD_PASSWORD } });
  real.cookie = `__Host-gatehouse=${c.jar.get('__Host-gatehouse')}`;
  real.sessionId = s.body.session.id;
  const tok = await c.req('POST', '/auth/login', { json: { email: EMAIL, password: GOOD_PASSWORD, mode: 'token' }, noCookies: true });
  real.bearer = tok.body.access_token;
  real.refresh = tok.body.refresh_token;
});
after(() => t.close());

// ---- generators ---------------------------------------------------------------------------------

const printable = fc.integer({ min: 0x20, max: 0x7e }).map((n) => String.fromCharCode(n));
/** Header-safe text (printable ASCII), sometimes carrying the marker. */
const text = (max = 60) => fc.tuple(fc.string({ unit: printable, maxLength: max }), fc.boolean()).map(([s, m]) => (m ? s + MARK : s));
const urlSafe = fc.constantFrom(...'abcXYZ019-._~!$&\'()*+,;=:@%'.split(''));
const segment = fc.oneof(
  fc.string({ unit: urlSafe, maxLength: 20 }).map((s) => s + MARK),
  fc.constantFrom('..', '.', '%2e%2e', '%00', '%zz', '%', '%E2%80%AE', MARK, `${MARK}%0d%0aSet-Cookie:x=1`),
);

const PATHS = [
  '/auth/register', '/auth/login', '/auth/me', '/auth/logout', '/auth/refresh', '/auth/sessions', `/auth/sessions/${MARK}`,
  '/auth/logout-others', '/auth/logout-all', '/auth/reauth', '/auth/password', '/auth/account', '/auth/events',
  '/.well-known/jwks.json', '/.well-known/openid-configuration', '/healthz', '/', '/auth', '/auth/',
];
const path = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...PATHS) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...PATHS), fc.array(segment, { maxLength: 3 })).map(([p, s]) => [p, ...s].join('/')) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...PATHS), fc.array(fc.tuple(segment, segment), { maxLength: 4 })).map(([p, q]) => `${p}?${q.map(([k, v]) => `${k}=${v}`).join('&')}`) },
  { weight: 1, arbitrary: fc.constantFrom('/auth/events?limit=0', '/auth/events?limit=1e9', `/auth/events?cursor=${MARK}`, '/auth//me', '//auth/me', '/AUTH/ME', '/auth/me/') },
);

const method = fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'POST', 'POST', 'GET');

/** Every route with its method, so that most requests get past routing into the handlers. */
const ROUTES: Array<[string, string]> = [
  ['POST', '/auth/register'], ['POST', '/auth/login'], ['GET', '/auth/me'], ['POST', '/auth/logout'], ['POST', '/auth/refresh'],
  ['GET', '/auth/sessions'], ['DELETE', `/auth/sessions/${MARK}`], ['DELETE', '/auth/sessions/SESSION'], ['POST', '/auth/logout-others'],
  ['POST', '/auth/logout-all'], ['POST', '/auth/reauth'], ['POST', '/auth/password'], ['DELETE', '/auth/account'], ['GET', '/auth/events'],
  ['GET', '/.well-known/jwks.json'], ['GET', '/.well-known/openid-configuration'], ['GET', '/healthz'],
];

const contentType = fc.oneof(
  fc.constantFrom(
    'application/json', 'application/json; charset=utf-8', 'application/json; charset=utf-16', 'application/problem+json', 'application/x+json',
    'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'APPLICATION/JSON', 'application/json;;;', '',
  ),
  text(30),
);

const token = fc.oneof(
  fc.constantFrom(() => real.bearer, () => real.bearer.slice(0, -2) + 'AA', () => real.bearer.split('.').slice(0, 2).join('.') + '.', () => `eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.${MARK}`),
  text(200).map((s) => () => s),
);
const cookieValue = fc.oneof(
  fc.constantFrom(() => real.cookie, () => `${real.cookie}; ${real.cookie}`, () => `__Host-gatehouse=${MARK}.${MARK}`, () => `__Secure-gatehouse-refresh=${real.refresh}`, () => `__Secure-gatehouse-refresh=${MARK}`),
  text(200).map((s) => () => `__Host-gatehouse=${s.replace(/;/g, '')}`),
  text(100).map((s) => () => s),
);

const headers = fc.record(
  {
    'content-type': contentType,
    origin: fc.oneof(fc.constantFrom('null', 'https://app.example.com', 'https://evil.example', 'http://localhost:3000'), text(40)),
    'sec-fetch-site': fc.oneof(fc.constantFrom('same-origin', 'same-site', 'cross-site', 'none'), text(10)),
    authorization: fc.oneof(token.map((f) => () => `Bearer ${f()}`), fc.constantFrom(() => 'Bearer', () => 'Basic YTpi', () => `bearer ${MARK}`), text(80).map((s) => () => s)),
    cookie: cookieValue,
    'x-forwarded-for': fc.oneof(fc.constantFrom('203.0.113.7', '::1', '2001:db8::1, 10.0.0.1', 'unknown'), text(40)),
    'access-control-request-method': fc.oneof(fc.constantFrom('POST', 'DELETE'), text(10)),
    'accept-language': text(40),
    'user-agent': text(80),
    [`x-${MARK}`]: text(20),
  },
  { requiredKeys: [] },
);

const str = fc.oneof(fc.string({ maxLength: 40 }).map((s) => s + MARK), fc.constantFrom(EMAIL, GOOD_PASSWORD, 'session', 'token', 'cookie', 'body', '', ' ', '\u0000', 'a@b', MARK));
const fieldValue = fc.oneof({ weight: 5, arbitrary: str }, { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) });
const structured = fc
  .record(
    {
      email: fieldValue, password: fieldValue, mode: fieldValue, refresh_transport: fieldValue, refresh_token: fieldValue,
      current_password: fieldValue, new_password: fieldValue, [MARK]: fieldValue,
    },
    { requiredKeys: [] },
  )
  .map((o) => JSON.stringify(o));

const body = fc.oneof(
  { weight: 2, arbitrary: fc.constant(undefined) },
  { weight: 5, arbitrary: structured },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 12 }).map((v) => JSON.stringify(v)) },
  { weight: 2, arbitrary: fc.string({ maxLength: 200 }).map((s) => s + MARK) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      `{"__proto__":{"${MARK}":1}}`, `{"constructor":{"prototype":{"${MARK}":1}}}`, '{"email":"a@b.c","email":"x"}', '{', '\uFEFF{}', 'null', '[]',
      `{"a":${'['.repeat(40)}${']'.repeat(40)}}`, JSON.stringify({ email: MARK.repeat(600), password: 'x'.repeat(17_000) }),
    ),
  },
);

interface Req {
  method: string;
  path: string;
  headers: Record<string, string | (() => string)>;
  body: string | undefined;
}

const routed = fc
  .tuple(fc.constantFrom(...ROUTES), headers, body, fc.boolean())
  .map(([[m, p], h, b, json]) => ({ method: m, path: p, headers: json ? { ...h, 'content-type': 'application/json' } : h, body: b }));
const requests = fc.oneof(
  { weight: 3, arbitrary: routed },
  { weight: 2, arbitrary: fc.record({ method, path, headers, body }) },
) as fc.Arbitrary<Req>;

// ---- the property -------------------------------------------------------------------------------

function send(r: Req): Promise<{ status: number; rawHeaders: string[] }> {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.headers)) headers[k] = typeof v === 'function' ? v() : v;
  r = { ...r, path: r.path.replace('SESSION', real.sessionId) };
  const withBody = r.body !== undefined && r.method !== 'GET' && r.method !== 'HEAD';
  if (withBody) headers['content-length'] = String(Buffer.byteLength(r.body!));
  return new Promise((resolve, reject) => {
    const req = request(`${t.url}${r.path}`, { method: r.method, headers, agent: false, timeout: 15_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, rawHeaders: res.rawHeaders }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 15 s')));
    req.on('error', reject);
    req.end(withBody ? r.body : undefined);
  });
}

test(`${RUNS} random and malformed requests: never a 5xx, no client input in a response header, and the server lives on`, async () => {
  const statuses = new Map<number, number>();
  const mark = MARK.toLowerCase();
  await fc.assert(
    fc.asyncProperty(requests, async (r) => {
      let res: { status: number; rawHeaders: string[] };
      try {
        res = await send(r);
      } catch (e) {
        // The client refusing to send (an invalid header it generated) is not a server failure.
        if ((e as { code?: string }).code === 'ERR_INVALID_CHAR' || (e as { code?: string }).code === 'ERR_INVALID_HTTP_TOKEN') return;
        throw e;
      }
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      assert.ok(res.status < 500, `${r.method} ${r.path} answered ${res.status}`);
      for (let i = 0; i < res.rawHeaders.length; i += 2) {
        const line = `${res.rawHeaders[i]}: ${res.rawHeaders[i + 1]}`;
        assert.ok(!line.toLowerCase().includes(mark), `response header carries client input: ${line.slice(0, 200)}`);
      }
    }),
    { numRuns: RUNS, endOnFailure: true },
  );
  const health = await new Client(t.url).req('GET', '/healthz');
  assert.equal(health.status, 200);
  assert.ok(!t.logs.some((l) => /"level":50|unhandled error/.test(l)), 'no unhandled error was logged');
  const summary = [...statuses].sort(([a], [b]) => a - b).map(([s, n]) => `${s}:${n}`).join(' ');
  console.log(`# fuzz status counts: ${summary}`);
});
