/**
 * The OpenAPI document cannot drift: it is generated fresh from openapi/spec.ts, it describes exactly
 * the routes the router registers, it is served at /openapi.json, and every endpoint's real answers
 * (success and the main errors) from the running server match it: status listed, content type,
 * headers, and body against the schema (JSON Schema 2020-12, ajv).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { renderOpenApi, OPENAPI_FILE } from '../../openapi/generate.js';
import { documentedRoutes } from '../../openapi/spec.js';
import { ERROR_CODES } from '../../src/errors.js';
import { createGatehouseCore } from '../../src/http/gatehouse.js';
import { Router } from '../../src/http/router.js';
import { wellKnownRoutes } from '../../src/http/routes/well-known.js';
import { createMemoryStores } from '../../src/stores/memory/index.js';
import { switchableFeed } from '../support/feeds.js';
import { ORIGIN } from '../support/mfa.js';
import { SoftAuthenticator, totpCode } from '../support/webauthn.js';
import { DbscBrowser, DpopKey, parseChallenge, parseRegistration } from '../support/pop.js';
import { CHEAP_HASHING, Client, GOOD_PASSWORD, startTestServer, uniqueEmail, type TestServer } from '../support/server.js';
import { opAccount, pathOf, runOpFlow, startOidcBed } from '../support/oidc.js';

type Json = any;
const doc: Json = JSON.parse(readFileSync(OPENAPI_FILE, 'utf8'));
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => void;
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema(doc, 'gatehouse-openapi', undefined, false);

/** The routes the standalone server adds beside the framework-neutral ones. */
const METRICS_TOKEN = 'openapi-test-metrics-token-0123456789abcdef';

const SERVER_ONLY = ['GET /healthz', 'GET /readyz', 'GET /metrics', 'GET /openapi.json', 'GET /auth/session/counters'];

const pointer = (...parts: string[]) => parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');
const validators = new Map<string, ReturnType<Ajv2020['compile']>>();
function validatorAt(ptr: string) {
  let v = validators.get(ptr);
  if (!v) {
    v = ajv.compile({ $ref: `gatehouse-openapi#/${ptr}` });
    validators.set(ptr, v);
  }
  return v;
}

type Res = { status: number; headers: Headers; body: Json; text: string };
const observed = new Set<string>();

/** Asserts that a real response is one the document describes for `METHOD /path/{template}`. */
function conforms(method: string, path: string, r: Res): void {
  const op = doc.paths[path]?.[method.toLowerCase()];
  assert.ok(op, `${method} ${path} is documented`);
  const key = String(r.status);
  const rangeKey = `${key[0]}XX`;
  const listed = op.responses[key] ? key : op.responses[rangeKey] ? rangeKey : null;
  assert.ok(listed, `${method} ${path} lists status ${r.status} (got body ${r.text.slice(0, 200)})`);
  observed.add(`${method} ${path} ${r.status}`);
  const spec = op.responses[listed!];
  for (const name of Object.keys(spec.headers ?? {})) {
    if (name === 'Set-Cookie') continue; // present only in some answers
    if (spec.headers[name].required === false) continue; // documented as conditional
    if (r.status === 401 && name === 'WWW-Authenticate' && r.body?.code !== 'invalid_token') continue;
    assert.ok(r.headers.get(name), `${method} ${path} ${r.status} carries ${name}`);
  }
  if (!spec.content) {
    assert.equal(r.text, '', `${method} ${path} ${r.status} has no body`);
    return;
  }
  const type = (r.headers.get('content-type') ?? '').split(';')[0]!.trim();
  assert.ok(spec.content[type], `${method} ${path} ${r.status}: content type ${type} is documented (${Object.keys(spec.content).join(', ')})`);
  const v = validatorAt(pointer('paths', path, method.toLowerCase(), 'responses', listed!, 'content', type, 'schema'));
  assert.ok(v(r.body), `${method} ${path} ${r.status} body matches the schema: ${ajv.errorsText(v.errors)}\n${r.text.slice(0, 500)}`);
}

/** Answers outside any operation (unknown path, wrong method) are still documented problems. */
function isProblem(r: Res, code: string): void {
  assert.match(r.headers.get('content-type') ?? '', /^application\/problem\+json/);
  const v = validatorAt(pointer('components', 'schemas', 'Problem'));
  assert.ok(v(r.body), ajv.errorsText(v.errors));
  assert.equal(r.body.code, code);
}

describe('the OpenAPI document', () => {
  test('openapi/openapi.json is exactly what openapi/spec.ts generates (run `npm run openapi`)', () => {
    assert.equal(readFileSync(OPENAPI_FILE, 'utf8'), renderOpenApi());
  });

  test('is OpenAPI 3.1 with cookie and bearer security schemes', () => {
    assert.equal(doc.openapi, '3.1.0');
    assert.deepEqual(doc.components.securitySchemes.cookieAuth, { ...doc.components.securitySchemes.cookieAuth, type: 'apiKey', in: 'cookie', name: '__Host-gatehouse' });
    assert.deepEqual(doc.components.securitySchemes.bearerAuth, { ...doc.components.securitySchemes.bearerAuth, type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
  });

  test('the problem code enum is every code of the error registry', () => {
    assert.deepEqual(doc.components.schemas.Problem.properties.code.enum, [...ERROR_CODES]);
  });

  test('every route the router registers is documented, and every documented route is registered', async () => {
    const gh = await createGatehouseCore({ stores: createMemoryStores(), config: { databaseUrl: 'memory:', passwordHashing: CHEAP_HASHING } });
    try {
      const wk = new Router();
      wellKnownRoutes(wk, gh.core, gh.basePath);
      const registered = [
        ...gh.routes.all().map((r) => `${r.method} ${gh.basePath}${r.path}`),
        ...wk.all().map((r) => `${r.method} ${r.path}`),
        ...gh.adminRoutes.all().map((r) => `${r.method} /admin/api${r.path}`),
        ...SERVER_ONLY,
      ].sort();
      assert.deepEqual([...documentedRoutes()].sort(), registered);
    } finally {
      await gh.close();
    }
  });

  test('every operation has a summary, an operationId and documents its problems as application/problem+json', () => {
    for (const [path, item] of Object.entries<Json>(doc.paths)) {
      for (const [method, op] of Object.entries<Json>(item)) {
        assert.ok(op.operationId && op.summary, `${method} ${path}`);
        for (const [status, resp] of Object.entries<Json>(op.responses)) {
          if (Number(status) >= 400 || /^[45]XX$/.test(status)) assert.ok(resp.content['application/problem+json'], `${method} ${path} ${status}`);
        }
      }
    }
  });
});

describe('real responses conform to the OpenAPI document', () => {
  let t: TestServer;
  const email = uniqueEmail('oas');
  let password = GOOD_PASSWORD;

  before(async () => {
    t = await startTestServer({ config: { token: { refreshGrace: 0 }, metrics: { token: METRICS_TOKEN } } });
  });
  after(async () => {
    await t?.close();
  });

  /** The token of the newest mailed link to `to` (the development mailer writes mail to the log). */
  async function mailedToken(to: string, linkPath: string): Promise<string> {
    const re = new RegExp(`${linkPath.replace(/[/.]/g, '\\$&')}#token=([A-Za-z0-9._~-]+)`);
    for (let i = 0; i < 500; i++) {
      for (const line of [...t.logs].reverse()) {
        if (!line.includes(to)) continue;
        const m = re.exec(JSON.parse(line).mail?.body ?? '');
        if (m) return m[1]!;
      }
      await new Promise((r) => setImmediate(r));
    }
    throw new Error(`no ${linkPath} mail to ${to} in the log`);
  }

  const session = async () => {
    const c = new Client(t.url);
    const r = await c.req('POST', '/auth/login', { json: { email, password } });
    conforms('POST', '/auth/login', r);
    assert.equal(r.status, 200);
    return c;
  };
  const tokens = async (extra: Record<string, unknown> = {}) => {
    const c = new Client(t.url);
    const r = await c.req('POST', '/auth/login', { json: { email, password, mode: 'token', ...extra } });
    conforms('POST', '/auth/login', r);
    assert.equal(r.status, 200);
    return { c, grant: r.body };
  };

  test('GET /openapi.json serves the document', async () => {
    const r = await new Client(t.url).req('GET', '/openapi.json');
    conforms('GET', '/openapi.json', r);
    assert.deepEqual(r.body, doc);
  });

  test('discovery and health endpoints', async () => {
    conforms('GET', '/.well-known/jwks.json', await new Client(t.url).req('GET', '/.well-known/jwks.json'));
    conforms('GET', '/.well-known/openid-configuration', await new Client(t.url).req('GET', '/.well-known/openid-configuration'));
    conforms('GET', '/healthz', await new Client(t.url).req('GET', '/healthz'));
    conforms('GET', '/readyz', await new Client(t.url).req('GET', '/readyz'));
    conforms('GET', '/metrics', await new Client(t.url).req('GET', '/metrics', { bearer: METRICS_TOKEN }));
    conforms('GET', '/metrics', await new Client(t.url).req('GET', '/metrics'));
  });

  test('the revocation list: 200, 304 with its ETag, 503 while the revocation set is not trusted', async () => {
    const list = await new Client(t.url).req('GET', '/.well-known/gatehouse-revocations');
    conforms('GET', '/.well-known/gatehouse-revocations', list);
    assert.equal(list.status, 200);
    const same = await new Client(t.url).req('GET', '/.well-known/gatehouse-revocations', { headers: { 'if-none-match': list.headers.get('etag')! } });
    conforms('GET', '/.well-known/gatehouse-revocations', same);
    assert.equal(same.status, 304);
    // A server whose feed link drops: its revocation set is no longer complete.
    const feed = switchableFeed();
    const cut = await startTestServer({ stores: createMemoryStores({ feed }) });
    try {
      feed.down();
      const down = await new Client(cut.url).req('GET', '/.well-known/gatehouse-revocations');
      conforms('GET', '/.well-known/gatehouse-revocations', down);
      assert.equal(down.status, 503);
    } finally {
      await cut.close();
    }
  });

  test('register: success and input errors', async () => {
    const c = new Client(t.url);
    const ok = await c.req('POST', '/auth/register', { json: { email, password } });
    conforms('POST', '/auth/register', ok);
    assert.equal(ok.status, 201);
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ email: 'not-an-email', password }, 'invalid_email'],
      [{ email: uniqueEmail(), password: 'short' }, 'password_too_short'],
      [{ email: uniqueEmail(), password: 'x'.repeat(1100) }, 'password_too_long'],
      [{ email: uniqueEmail() }, 'invalid_field'],
    ];
    for (const [json, code] of cases) {
      const r = await c.req('POST', '/auth/register', { json });
      conforms('POST', '/auth/register', r);
      assert.equal(r.body.code, code);
    }
    const bad = await c.req('POST', '/auth/register', { body: '{"email":', headers: { 'content-type': 'application/json' } });
    conforms('POST', '/auth/register', bad);
    assert.equal(bad.body.code, 'invalid_json');
    const form = await c.req('POST', '/auth/register', { body: 'a=b', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    conforms('POST', '/auth/register', form);
    assert.equal(form.status, 415);
    const big = await c.req('POST', '/auth/register', { json: { email, password: 'x'.repeat(40_000) } });
    conforms('POST', '/auth/register', big);
    assert.equal(big.status, 413);
  });

  test('login in both modes and with both refresh transports; wrong password; CSRF', async () => {
    await session();
    const { grant } = await tokens();
    assert.ok(grant.refresh_token);
    const { grant: viaCookie } = await tokens({ refresh_transport: 'cookie' });
    assert.equal(viaCookie.refresh_token, undefined);
    const wrong = await new Client(t.url).req('POST', '/auth/login', { json: { email, password: 'wrong password here' } });
    conforms('POST', '/auth/login', wrong);
    assert.equal(wrong.body.code, 'invalid_credentials');
    const badMode = await new Client(t.url).req('POST', '/auth/login', { json: { email, password, mode: 'jwt' } });
    conforms('POST', '/auth/login', badMode);
    assert.equal(badMode.body.code, 'invalid_field');
    const cross = await new Client(t.url).req('POST', '/auth/login', { json: { email, password }, headers: { origin: 'https://evil.example' } });
    conforms('POST', '/auth/login', cross);
    assert.equal(cross.body.code, 'csrf_rejected');
  });

  test('me with a cookie, a bearer token, nothing, and a bad token', async () => {
    const c = await session();
    conforms('GET', '/auth/me', await c.req('GET', '/auth/me'));
    const { grant } = await tokens();
    conforms('GET', '/auth/me', await new Client(t.url).req('GET', '/auth/me', { bearer: grant.access_token }));
    const none = await new Client(t.url).req('GET', '/auth/me');
    conforms('GET', '/auth/me', none);
    assert.equal(none.body.code, 'unauthenticated');
    const bad = await new Client(t.url).req('GET', '/auth/me', { bearer: 'eyJhbGciOiJub25lIn0.e30.' });
    conforms('GET', '/auth/me', bad);
    assert.equal(bad.body.code, 'invalid_token');
  });

  test('session check with nothing, a cookie, a bearer token and a bad token; refresh-cookie presence', async () => {
    const none = await new Client(t.url).req('GET', '/auth/session');
    conforms('GET', '/auth/session', none);
    assert.equal(none.body.user, null);
    const c = await session();
    conforms('GET', '/auth/session', await c.req('GET', '/auth/session'));
    const { grant } = await tokens();
    conforms('GET', '/auth/session', await new Client(t.url).req('GET', '/auth/session', { bearer: grant.access_token }));
    const bad = await new Client(t.url).req('GET', '/auth/session', { bearer: 'eyJhbGciOiJub25lIn0.e30.' });
    conforms('GET', '/auth/session', bad);
    assert.equal(bad.body.code, 'invalid_token');
    const absent = await new Client(t.url).req('GET', '/auth/refresh');
    conforms('GET', '/auth/refresh', absent);
    assert.equal(absent.body.refresh_cookie, false);
    const counters = await c.req('GET', '/auth/session/counters');
    conforms('GET', '/auth/session/counters', counters);
    assert.equal(counters.status, 200);
    conforms('GET', '/auth/session/counters', await new Client(t.url).req('GET', '/auth/session/counters', { bearer: grant.access_token }));
    const noCounters = await new Client(t.url).req('GET', '/auth/session/counters');
    conforms('GET', '/auth/session/counters', noCounters);
    assert.equal(noCounters.status, 401);
    const { c: withCookie } = await tokens({ refresh_transport: 'cookie' });
    const present = await withCookie.req('GET', '/auth/refresh');
    conforms('GET', '/auth/refresh', present);
    assert.equal(present.body.refresh_cookie, true);
  });

  test('refresh through the body and the cookie; reuse and a missing token fail', async () => {
    const { grant } = await tokens();
    const next = await new Client(t.url).req('POST', '/auth/refresh', { json: { refresh_token: grant.refresh_token } });
    conforms('POST', '/auth/refresh', next);
    assert.equal(next.status, 200);
    t.clock.advance(1000); // past the (zero) grace window: a second use is reuse
    const reuse = await new Client(t.url).req('POST', '/auth/refresh', { json: { refresh_token: grant.refresh_token } });
    conforms('POST', '/auth/refresh', reuse);
    assert.equal(reuse.body.code, 'invalid_grant');
    const { c } = await tokens({ refresh_transport: 'cookie' });
    const viaCookie = await c.req('POST', '/auth/refresh', { json: {} });
    conforms('POST', '/auth/refresh', viaCookie);
    assert.equal(viaCookie.status, 200);
    const missing = await new Client(t.url).req('POST', '/auth/refresh', { json: {} });
    conforms('POST', '/auth/refresh', missing);
    assert.equal(missing.body.code, 'invalid_field');
  });

  test('DPoP: a bound login, me and refresh, and their proof refusals', async () => {
    const PUBLIC = 'http://localhost:3000';
    const key = await DpopKey.create('ES256', () => t.clock.now());
    const login = await new Client(t.url).req('POST', '/auth/login', { json: { email, password, mode: 'token' }, headers: { dpop: await key.proof({ htm: 'POST', htu: `${PUBLIC}/auth/login` }) } });
    conforms('POST', '/auth/login', login);
    assert.equal(login.body.token_type, 'DPoP');
    const access = login.body.access_token;
    const me = await new Client(t.url).req('GET', '/auth/me', { headers: { authorization: `DPoP ${access}`, dpop: await key.proof({ htm: 'GET', htu: `${PUBLIC}/auth/me`, accessToken: access }) } });
    conforms('GET', '/auth/me', me);
    assert.equal(me.body.session.binding, 'dpop');
    const noProof = await new Client(t.url).req('GET', '/auth/me', { headers: { authorization: `DPoP ${access}` } });
    conforms('GET', '/auth/me', noProof);
    assert.equal(noProof.body.code, 'invalid_dpop_proof');
    const badLogin = await new Client(t.url).req('POST', '/auth/login', { json: { email, password, mode: 'token' }, headers: { dpop: 'x.y.z' } });
    conforms('POST', '/auth/login', badLogin);
    assert.equal(badLogin.body.error, 'invalid_dpop_proof');
    const unproven = await new Client(t.url).req('POST', '/auth/refresh', { json: { refresh_token: login.body.refresh_token } });
    conforms('POST', '/auth/refresh', unproven);
    assert.equal(unproven.body.error, 'invalid_dpop_proof');
    const next = await new Client(t.url).req('POST', '/auth/refresh', { json: { refresh_token: login.body.refresh_token }, headers: { dpop: await key.proof({ htm: 'POST', htu: `${PUBLIC}/auth/refresh` }) } });
    conforms('POST', '/auth/refresh', next);
    assert.equal(next.status, 200);
  });

  test('DBSC: registration offer, register, refresh with its challenge, and refusals', async () => {
    const c = new Client(t.url);
    const login = await c.req('POST', '/auth/login', { json: { email, password } });
    conforms('POST', '/auth/login', login);
    const offer = parseRegistration(login.headers.get('secure-session-registration'))!;
    const browser = await DbscBrowser.create(() => t.clock.now());
    const bad = await c.req('POST', '/auth/dbsc/register', { headers: { 'secure-session-response': DbscBrowser.header(await browser.registrationProof('not-the-challenge')) } });
    conforms('POST', '/auth/dbsc/register', bad);
    assert.equal(bad.body.code, 'invalid_dbsc_proof');
    const anon = await new Client(t.url).req('POST', '/auth/dbsc/register', { headers: { 'secure-session-response': '"x.y.z"' } });
    conforms('POST', '/auth/dbsc/register', anon);
    const reg = await c.req('POST', '/auth/dbsc/register', { headers: { 'secure-session-response': DbscBrowser.header(await browser.registrationProof(offer.challenge)) } });
    conforms('POST', '/auth/dbsc/register', reg);
    assert.equal(reg.status, 200);
    const sid = `"${reg.body.session_identifier}"`;
    const challenge = await c.req('POST', '/auth/dbsc/refresh', { headers: { 'sec-secure-session-id': sid } });
    conforms('POST', '/auth/dbsc/refresh', challenge);
    assert.equal(challenge.status, 403);
    const ch = parseChallenge(challenge.headers.get('secure-session-challenge'))!;
    const ok = await c.req('POST', '/auth/dbsc/refresh', { headers: { 'sec-secure-session-id': sid, 'secure-session-response': DbscBrowser.header(await browser.refreshProof(ch.challenge)) } });
    conforms('POST', '/auth/dbsc/refresh', ok);
    assert.equal(ok.status, 200);
    const end = await c.req('POST', '/auth/dbsc/refresh', { headers: { 'sec-secure-session-id': '"other"' } });
    conforms('POST', '/auth/dbsc/refresh', end);
    assert.deepEqual(end.body, { continue: false });
    const thief = await DbscBrowser.create(() => t.clock.now());
    const ch2 = parseChallenge((await c.req('POST', '/auth/dbsc/refresh', { headers: { 'sec-secure-session-id': sid } })).headers.get('secure-session-challenge'))!;
    const refused = await c.req('POST', '/auth/dbsc/refresh', { headers: { 'sec-secure-session-id': sid, 'secure-session-response': DbscBrowser.header(await thief.refreshProof(ch2.challenge)) } });
    conforms('POST', '/auth/dbsc/refresh', refused);
    assert.equal(refused.body.code, 'invalid_dbsc_proof');
    const noId = await c.req('POST', '/auth/dbsc/refresh');
    conforms('POST', '/auth/dbsc/refresh', noId);
  });

  test('devices: list, revoke (reauth required, unknown, success), logout-others, events', async () => {
    const c = await session();
    const { grant } = await tokens();
    const list = await c.req('GET', '/auth/sessions');
    conforms('GET', '/auth/sessions', list);
    const unknown = await c.req('DELETE', '/auth/sessions/nosuchsession');
    conforms('DELETE', '/auth/sessions/{id}', unknown);
    assert.equal(unknown.status, 404);

    t.clock.advance(11 * 60_000); // past the re-authentication window, inside the idle timeout
    const stale = await c.req('DELETE', `/auth/sessions/${grant.session.id}`);
    conforms('DELETE', '/auth/sessions/{id}', stale);
    assert.equal(stale.body.code, 'reauth_required');
    const wrong = await c.req('POST', '/auth/reauth', { json: { password: 'not my password' } });
    conforms('POST', '/auth/reauth', wrong);
    assert.equal(wrong.body.code, 'invalid_credentials');
    const re = await c.req('POST', '/auth/reauth', { json: { password } });
    conforms('POST', '/auth/reauth', re);
    assert.equal(re.status, 200);
    const revoked = await c.req('DELETE', `/auth/sessions/${grant.session.id}`);
    conforms('DELETE', '/auth/sessions/{id}', revoked);
    assert.equal(revoked.status, 204);

    const others = await c.req('POST', '/auth/logout-others', { json: {} });
    conforms('POST', '/auth/logout-others', others);
    assert.equal(others.status, 200);
    const events = await c.req('GET', '/auth/events?limit=5');
    conforms('GET', '/auth/events', events);
    assert.ok(events.body.events.length > 0);
    const badLimit = await c.req('GET', '/auth/events?limit=1000');
    conforms('GET', '/auth/events', badLimit);
    assert.equal(badLimit.body.code, 'invalid_field');
  });

  test('password change (wrong current password, then success), logout, logout-all', async () => {
    const c = await session();
    const wrong = await c.req('POST', '/auth/password', { json: { current_password: 'nope nope nope', new_password: 'another good passphrase' } });
    conforms('POST', '/auth/password', wrong);
    assert.equal(wrong.body.code, 'invalid_credentials');
    const weak = await c.req('POST', '/auth/password', { json: { current_password: password, new_password: 'short' } });
    conforms('POST', '/auth/password', weak);
    assert.equal(weak.body.code, 'password_too_short');
    const ok = await c.req('POST', '/auth/password', { json: { current_password: password, new_password: 'another good passphrase' } });
    conforms('POST', '/auth/password', ok);
    assert.equal(ok.status, 204);
    password = 'another good passphrase';

    const out = await c.req('POST', '/auth/logout');
    conforms('POST', '/auth/logout', out);
    assert.equal(out.status, 204);
    const outAgain = await new Client(t.url).req('POST', '/auth/logout');
    conforms('POST', '/auth/logout', outAgain);
    assert.equal(outAgain.status, 401);

    const d = await session();
    const all = await d.req('POST', '/auth/logout-all');
    conforms('POST', '/auth/logout-all', all);
    assert.equal(all.status, 204);
  });

  test('email verification, password reset and email change by mailed link', async () => {
    const c = await session();
    const resend = await c.req('POST', '/auth/verify-email/resend', { json: {} });
    conforms('POST', '/auth/verify-email/resend', resend);
    assert.equal(resend.status, 202);
    const badLink = await new Client(t.url).req('POST', '/auth/verify-email', { json: { token: 'x'.repeat(66) } });
    conforms('POST', '/auth/verify-email', badLink);
    assert.equal(badLink.body.code, 'invalid_link');
    const linkToken = await mailedToken(email, '/verify-email');
    const needsHolder = await new Client(t.url).req('POST', '/auth/verify-email', { json: { token: linkToken } });
    conforms('POST', '/auth/verify-email', needsHolder);
    assert.equal(needsHolder.status, 401);
    const verified = await c.req('POST', '/auth/verify-email', { json: { token: linkToken } });
    conforms('POST', '/auth/verify-email', verified);
    assert.equal(verified.status, 204);

    const reset = await new Client(t.url).req('POST', '/auth/password-reset', { json: { email } });
    conforms('POST', '/auth/password-reset', reset);
    assert.equal(reset.status, 202);
    const badReset = await new Client(t.url).req('POST', '/auth/password-reset/confirm', { json: { token: 'y'.repeat(66), new_password: 'a third good passphrase' } });
    conforms('POST', '/auth/password-reset/confirm', badReset);
    assert.equal(badReset.body.code, 'invalid_link');
    const resetOk = await new Client(t.url).req('POST', '/auth/password-reset/confirm', {
      json: { token: await mailedToken(email, '/reset'), new_password: 'a third good passphrase' },
    });
    conforms('POST', '/auth/password-reset/confirm', resetOk);
    assert.equal(resetOk.status, 204);
    password = 'a third good passphrase';

    const d = await session();
    const newEmail = uniqueEmail('oasnew');
    const change = await d.req('POST', '/auth/email', { json: { new_email: newEmail, current_password: password } });
    conforms('POST', '/auth/email', change);
    assert.equal(change.status, 202);
    const badConfirm = await new Client(t.url).req('POST', '/auth/email/confirm', { json: { token: 'z'.repeat(66) } });
    conforms('POST', '/auth/email/confirm', badConfirm);
    assert.equal(badConfirm.body.code, 'invalid_link');
    const confirmed = await new Client(t.url).req('POST', '/auth/email/confirm', { json: { token: await mailedToken(newEmail, '/confirm-email') } });
    conforms('POST', '/auth/email/confirm', confirmed);
    assert.equal(confirmed.status, 204);
  });

  test('account deletion', async () => {
    const other = uniqueEmail('oasdel');
    const c = new Client(t.url);
    conforms('POST', '/auth/register', await c.req('POST', '/auth/register', { json: { email: other, password: GOOD_PASSWORD } }));
    conforms('POST', '/auth/login', await c.req('POST', '/auth/login', { json: { email: other, password: GOOD_PASSWORD } }));
    const del = await c.req('DELETE', '/auth/account');
    conforms('DELETE', '/auth/account', del);
    assert.equal(del.status, 204);
  });

  test('second factors and passkeys: TOTP enrolment, the mfa_token step, recovery codes, passkeys, step-up', async () => {
    const who = uniqueEmail('oasmfa');
    assert.equal((await new Client(t.url).req('POST', '/auth/register', { json: { email: who, password: GOOD_PASSWORD } })).status, 201);
    const c = new Client(t.url);
    conforms('POST', '/auth/login', await c.req('POST', '/auth/login', { json: { email: who, password: GOOD_PASSWORD } }));
    const status0 = await c.req('GET', '/auth/mfa');
    conforms('GET', '/auth/mfa', status0);
    conforms('POST', '/auth/reauth/options', await c.req('POST', '/auth/reauth/options', { json: {} }));
    const begin = await c.req('POST', '/auth/mfa/totp', { json: {} });
    conforms('POST', '/auth/mfa/totp', begin);
    conforms('POST', '/auth/mfa/totp/confirm', await c.req('POST', '/auth/mfa/totp/confirm', { json: { code: '000000' === totpCode(begin.body.secret, t.clock.now()) ? '111111' : '000000' } }));
    const confirm = await c.req('POST', '/auth/mfa/totp/confirm', { json: { code: totpCode(begin.body.secret, t.clock.now()) } });
    conforms('POST', '/auth/mfa/totp/confirm', confirm);
    assert.equal(confirm.status, 200);
    conforms('POST', '/auth/mfa/totp', await c.req('POST', '/auth/mfa/totp', { json: {} }));
    t.clock.advance(30_000);

    const step = await new Client(t.url).req('POST', '/auth/login', { json: { email: who, password: GOOD_PASSWORD, mode: 'token' } });
    conforms('POST', '/auth/login', step);
    assert.equal(step.body.code, 'mfa_required');
    conforms('POST', '/auth/login/mfa', await new Client(t.url).req('POST', '/auth/login/mfa', { json: { mfa_token: step.body.mfa_token, totp: 'abc' } }));
    conforms('POST', '/auth/login/mfa/options', await new Client(t.url).req('POST', '/auth/login/mfa/options', { json: { mfa_token: step.body.mfa_token } }));
    const done = await new Client(t.url).req('POST', '/auth/login/mfa', { json: { mfa_token: step.body.mfa_token, recovery_code: confirm.body.recovery_codes[0] } });
    conforms('POST', '/auth/login/mfa', done);
    assert.equal(done.status, 200);
    conforms('POST', '/auth/login/mfa', await new Client(t.url).req('POST', '/auth/login/mfa', { json: { mfa_token: step.body.mfa_token, totp: '123456' } }));
    conforms('POST', '/auth/mfa/recovery-codes', await c.req('POST', '/auth/mfa/recovery-codes', { json: {} }));

    // Passkeys, from the session that just stepped up (aal2, recent).
    const auth = new SoftAuthenticator(ORIGIN);
    const opts = await c.req('POST', '/auth/passkeys/register/options', { json: {} });
    conforms('POST', '/auth/passkeys/register/options', opts);
    conforms('POST', '/auth/passkeys/register', await c.req('POST', '/auth/passkeys/register', { json: { response: { id: 'x' } } }));
    const reg = await c.req('POST', '/auth/passkeys/register', { json: { response: auth.create(opts.body), name: 'Key' } });
    conforms('POST', '/auth/passkeys/register', reg);
    assert.equal(reg.status, 201);
    conforms('GET', '/auth/passkeys', await c.req('GET', '/auth/passkeys'));
    const step2 = await new Client(t.url).req('POST', '/auth/login', { json: { email: who, password: GOOD_PASSWORD } });
    conforms('POST', '/auth/login', step2);
    assert.ok(step2.body.webauthn);
    conforms('POST', '/auth/login/mfa/options', await new Client(t.url).req('POST', '/auth/login/mfa/options', { json: { mfa_token: step2.body.mfa_token } }));
    conforms('PATCH', '/auth/passkeys/{id}', await c.req('PATCH', `/auth/passkeys/${reg.body.passkey.id}`, { json: { name: 'Desk key' } }));
    conforms('PATCH', '/auth/passkeys/{id}', await c.req('PATCH', '/auth/passkeys/nope', { json: { name: 'x' } }));
    const lo = await new Client(t.url).req('POST', '/auth/passkeys/login/options', { json: {} });
    conforms('POST', '/auth/passkeys/login/options', lo);
    const pl = await new Client(t.url).req('POST', '/auth/passkeys/login', { json: { response: auth.get(lo.body), mode: 'token' } });
    conforms('POST', '/auth/passkeys/login', pl);
    assert.equal(pl.status, 200);
    conforms('POST', '/auth/passkeys/login', await new Client(t.url).req('POST', '/auth/passkeys/login', { json: { response: auth.get(lo.body) } }));
    const ro = await c.req('POST', '/auth/reauth/options', { json: {} });
    conforms('POST', '/auth/reauth/options', ro);
    conforms('POST', '/auth/reauth', await c.req('POST', '/auth/reauth', { json: { password: GOOD_PASSWORD } }));
    conforms('POST', '/auth/reauth', await c.req('POST', '/auth/reauth', { json: { webauthn: auth.get(ro.body) } }));
    conforms('DELETE', '/auth/passkeys/{id}', await c.req('DELETE', `/auth/passkeys/${reg.body.passkey.id}`));
    conforms('DELETE', '/auth/mfa/totp', await c.req('DELETE', '/auth/mfa/totp'));
    conforms('DELETE', '/auth/mfa/totp', await c.req('DELETE', '/auth/mfa/totp'));
  });

  test('identity providers: providers, start, callback, exchange, identities, link, reauth, unlink, back-channel logout', async () => {
    const bed = await startOidcBed();
    const conform = (m: string, p: string, r: Res) => conforms(m, p, r);
    try {
      const gh = bed.gh;
      conform('GET', '/auth/oidc/providers', await new Client(gh.url).req('GET', '/auth/oidc/providers'));
      conform('GET', '/auth/oidc/{provider}/start', await new Client(gh.url).req('GET', '/auth/oidc/op/start?return_to=//evil.example'));
      conform('GET', '/auth/oidc/{provider}/start', await new Client(gh.url).req('GET', '/auth/oidc/nope/start'));
      const who = opAccount(bed.op, { email: uniqueEmail('oas-op'), email_verified: true });
      const c = new Client(gh.url);
      const start = await c.req('GET', '/auth/oidc/op/start?mode=session&return_to=/account');
      conform('GET', '/auth/oidc/{provider}/start', start);
      const back = await runOpFlow(start.headers.get('location')!, who);
      const cb = await c.req('GET', pathOf(back));
      conform('GET', '/auth/oidc/{provider}/callback', cb);
      assert.equal(cb.status, 302);
      conform('GET', '/auth/oidc/{provider}/callback', await c.req('GET', pathOf(back)));
      const tc = new Client(gh.url);
      const tstart = await tc.req('GET', '/auth/oidc/op/start?mode=token');
      const tcb = await tc.req('GET', pathOf(await runOpFlow(tstart.headers.get('location')!, who)));
      const code = decodeURIComponent(tcb.headers.get('location')!.split('#code=')[1]!);
      const ex = await new Client(gh.url).req('POST', '/auth/oidc/exchange', { json: { code } });
      conform('POST', '/auth/oidc/exchange', ex);
      assert.equal(ex.status, 200);
      conform('POST', '/auth/oidc/exchange', await new Client(gh.url).req('POST', '/auth/oidc/exchange', { json: { code } }));
      const ids = await c.req('GET', '/auth/identities');
      conform('GET', '/auth/identities', ids);
      conform('GET', '/auth/sessions', await c.req('GET', '/auth/sessions'));
      conform('DELETE', '/auth/identities/{id}', await c.req('DELETE', `/auth/identities/${ids.body.identities[0].id}`));
      const re = await c.req('POST', '/auth/identities/reauth', { json: { provider: 'op' } });
      conform('POST', '/auth/identities/reauth', re);
      conform('POST', '/auth/identities/link', await c.req('POST', '/auth/identities/link', { json: { provider: 'nope' } }));
      // A password user links the provider, then unlinks it.
      const pwEmail = uniqueEmail('oas-link');
      assert.equal((await new Client(gh.url).req('POST', '/auth/register', { json: { email: pwEmail, password: GOOD_PASSWORD } })).status, 201);
      const pw = new Client(gh.url);
      assert.equal((await pw.req('POST', '/auth/login', { json: { email: pwEmail, password: GOOD_PASSWORD } })).status, 200);
      const link = await pw.req('POST', '/auth/identities/link', { json: { provider: 'op', return_to: '/account' } });
      conform('POST', '/auth/identities/link', link);
      const other = opAccount(bed.op, { email: uniqueEmail('oas-op2'), email_verified: true });
      assert.equal((await pw.req('GET', pathOf(await runOpFlow(link.body.authorization_url, other)))).status, 302);
      const mine = await pw.req('GET', '/auth/identities');
      const del = await pw.req('DELETE', `/auth/identities/${mine.body.identities[0].id}`);
      conform('DELETE', '/auth/identities/{id}', del);
      assert.equal(del.status, 204);
      const form = (token: string) => fetch(`${gh.url}/auth/oidc/op/backchannel-logout`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ logout_token: token }) });
      const asRes = async (r: Response): Promise<Res> => {
        const text = await r.text();
        return { status: r.status, headers: r.headers, body: text ? JSON.parse(text) : null, text };
      };
      const now = Math.floor(Date.now() / 1000);
      const token = await bed.op.sign({ iss: bed.op.issuer, aud: 'gatehouse-test', iat: now, jti: `oas-${now}-${Math.random()}`, sub: who, events: { 'http://schemas.openid.net/event/backchannel-logout': {} } }, 'logout+jwt');
      const bcl = await asRes(await form(token));
      conform('POST', '/auth/oidc/{provider}/backchannel-logout', bcl);
      assert.equal(bcl.status, 200);
      conform('POST', '/auth/oidc/{provider}/backchannel-logout', await asRes(await form(token)));
    } finally {
      await bed.close();
    }
  });

  test('the admin API: every operation, the gate (admin_required, reauth_required), input errors and not found', async () => {
    const O = { origin: 'http://localhost:3000' };
    const reg = async (prefix: string) => {
      const e = uniqueEmail(prefix);
      const r = await new Client(t.url).req('POST', '/auth/register', { json: { email: e, password: GOOD_PASSWORD } });
      assert.equal(r.status, 201);
      return { email: e, id: r.body.user.id as string };
    };
    const signIn = async (e: string) => {
      const c = new Client(t.url);
      assert.equal((await c.req('POST', '/auth/login', { json: { email: e, password: GOOD_PASSWORD } })).status, 200);
      return c;
    };
    const boss = await reg('oas-admin');
    await t.srv.gatehouse.core.admin.setAdmin(boss.id, true);
    const plain = await signIn((await reg('oas-plain')).email);
    conforms('GET', '/admin/api/stats', await plain.req('GET', '/admin/api/stats'));
    conforms('GET', '/admin/api/users', await new Client(t.url).req('GET', '/admin/api/users'));
    const a = await signIn(boss.email);
    const target = await reg('oas-target');
    const tc = await signIn(target.email);
    const sid = (await tc.req('GET', '/auth/session')).body.session.id as string;
    const u = `/admin/api/users/${target.id}`;
    const ok = async (method: string, path: string, tpl: string, status: number) => {
      const r = await a.req(method, path, { headers: O, ...(method === 'POST' ? { json: {} } : {}) });
      conforms(method, tpl, r);
      assert.equal(r.status, status, `${method} ${path}: ${r.text}`);
      return r;
    };
    await ok('GET', '/admin/api/stats', '/admin/api/stats', 200);
    await ok('GET', `/admin/api/users?email=oas-&limit=1`, '/admin/api/users', 200);
    await ok('GET', '/admin/api/users?status=nope', '/admin/api/users', 400);
    await ok('GET', u, '/admin/api/users/{id}', 200);
    await ok('GET', '/admin/api/users/nobody', '/admin/api/users/{id}', 404);
    await ok('GET', `/admin/api/audit?user=${target.id}&limit=2`, '/admin/api/audit', 200);
    await ok('GET', '/admin/api/audit?cursor=x', '/admin/api/audit', 400);
    await ok('POST', `${u}/verification`, '/admin/api/users/{id}/verification', 200);
    await ok('DELETE', `${u}/sessions/${encodeURIComponent(sid)}`, '/admin/api/users/{id}/sessions/{sid}', 204);
    await ok('DELETE', `${u}/sessions`, '/admin/api/users/{id}/sessions', 200);
    await ok('POST', `${u}/disable`, '/admin/api/users/{id}/disable', 204);
    await ok('POST', `${u}/enable`, '/admin/api/users/{id}/enable', 204);
    await ok('POST', `${u}/mfa/reset`, '/admin/api/users/{id}/mfa/reset', 200);
    await ok('POST', `/admin/api/users/${boss.id}/disable`, '/admin/api/users/{id}/disable', 403);
    const forged = await a.req('DELETE', u, { headers: { origin: 'https://evil.example' } });
    conforms('DELETE', '/admin/api/users/{id}', forged);
    assert.equal(forged.body.code, 'csrf_rejected');
    await ok('DELETE', u, '/admin/api/users/{id}', 204);
    t.clock.advance(t.srv.gatehouse.config.reauthWindow + 1);
    const stale = await ok('GET', '/admin/api/stats', '/admin/api/stats', 403);
    assert.equal(stale.body.code, 'reauth_required');
  });

  test('unknown paths and wrong methods answer documented problems', async () => {
    isProblem(await new Client(t.url).req('GET', '/auth/no-such-route'), 'not_found');
    isProblem(await new Client(t.url).req('GET', '/no-such-page.json'), 'not_found');
    const wrong = await new Client(t.url).req('GET', '/auth/login');
    isProblem(wrong, 'method_not_allowed');
    assert.equal(wrong.status, 405);
  });

  test('every documented operation was seen answering with a success status', () => {
    const missing: string[] = [];
    for (const [path, item] of Object.entries<Json>(doc.paths)) {
      for (const [method, op] of Object.entries<Json>(item)) {
        // A redirect is the success of a browser navigation (the identity-provider flow).
        const ok = Object.keys(op.responses).filter((s) => s.startsWith('2') || s.startsWith('3'));
        if (!ok.some((s) => observed.has(`${method.toUpperCase()} ${path} ${s}`))) missing.push(`${method.toUpperCase()} ${path}`);
      }
    }
    assert.deepEqual(missing, []);
  });
});
