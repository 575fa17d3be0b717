/**
 * Input limits: bounded bodies, headers and JSON nesting; scalar-only fields; prototype-pollution
 * keys refused without effect; unknown fields ignored without effect.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { Client, GOOD_PASSWORD, startTestServer, uniqueEmail, type TestServer } from '../support/server.js';

let t: TestServer;
before(async () => {
  t = await startTestServer();
});
after(() => t.close());

/** A raw request, for what fetch refuses to send. */
function raw(method: string, path: string, headers: Record<string, string>, body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${t.url}${path}`, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, text: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const post = (path: string, body: string, c = new Client(t.url)) => c.req('POST', path, { body, headers: { 'content-type': 'application/json' } });

async function signedIn(): Promise<Client> {
  const email = uniqueEmail('in');
  const c = new Client(t.url);
  assert.equal((await c.req('POST', '/auth/register', { json: { email, password: GOOD_PASSWORD } })).status, 201);
  assert.equal((await c.req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD } })).status, 200);
  return c;
}

describe('size bounds', () => {
  test('a body over 16 KiB is 413, declared or chunked', async () => {
    const big = JSON.stringify({ email: 'a@example.com', password: 'x'.repeat(17 * 1024) });
    assert.equal((await post('/auth/login', big)).status, 413);
    const chunked = await raw('POST', '/auth/login', { 'content-type': 'application/json', 'transfer-encoding': 'chunked' }, big);
    assert.equal(chunked.status, 413);
  });

  test('headers over 16 KiB are refused with 431 and the server keeps serving', async () => {
    const r = await raw('GET', '/auth/me', { 'x-filler': 'a'.repeat(17 * 1024) });
    assert.equal(r.status, 431);
    const cookie = await raw('GET', '/auth/me', { cookie: `__Host-gatehouse=${'b'.repeat(20 * 1024)}` });
    assert.equal(cookie.status, 431);
    assert.equal((await new Client(t.url).req('GET', '/healthz')).status, 200);
  });

  test('JSON nested deeper than 8 levels is 400 invalid_json', async () => {
    const deep = `{"email":"a@example.com","password":"${GOOD_PASSWORD}","x":${'['.repeat(20)}${']'.repeat(20)}}`;
    const r = await post('/auth/login', deep);
    assert.equal(r.status, 400);
    assert.equal(r.body.code, 'invalid_json');
    // 2,000 levels, still under the 16 KiB body limit: refused by depth, without a stack overflow.
    const veryDeep = `{"x":${'{"a":'.repeat(2000)}1${'}'.repeat(2000)}}`;
    assert.ok(veryDeep.length < 16 * 1024);
    const r2 = await post('/auth/register', veryDeep);
    assert.equal(r2.status, 400);
    assert.equal(r2.body.code, 'invalid_json');
  });
});

describe('scalar-only fields', () => {
  const wrong: Array<[string, unknown]> = [
    ['a number', 42],
    ['a boolean', true],
    ['null', null],
    ['an array', ['a@example.com']],
    ['an object', { $ne: '' }],
  ];
  for (const [what, value] of wrong) {
    test(`${what} where a string belongs is 400 naming the field, on every credential endpoint`, async () => {
      const cases: Array<[string, Record<string, unknown>, string]> = [
        ['/auth/register', { email: value, password: GOOD_PASSWORD }, 'email'],
        ['/auth/register', { email: 'a@example.com', password: value }, 'password'],
        ['/auth/login', { email: value, password: GOOD_PASSWORD }, 'email'],
        ['/auth/login', { email: 'a@example.com', password: value }, 'password'],
        ['/auth/refresh', { refresh_token: value }, 'refresh_token'],
      ];
      for (const [path, body, field] of cases) {
        const r = await post(path, JSON.stringify(body));
        assert.equal(r.status, 400, `${path} ${field}: ${r.text}`);
        assert.equal(r.body.code, 'invalid_field');
        assert.equal(r.body.field, field);
      }
      const c = await signedIn();
      const re = await post('/auth/reauth', JSON.stringify({ password: value }), c);
      assert.equal(re.status, 400);
      assert.equal(re.body.field, 'password');
    });
  }
});

describe('prototype pollution', () => {
  for (const key of ['__proto__', 'constructor', 'prototype']) {
    test(`a "${key}" key is refused with 400, at the top or nested, and changes nothing`, async () => {
      const top = `{"${key}":{"polluted":"yes","isAdmin":true},"email":"${uniqueEmail('pp')}","password":"${GOOD_PASSWORD}"}`;
      const nested = `{"email":"a@example.com","password":"x","extra":{"deeper":{"${key}":{"polluted":"yes"}}}}`;
      for (const body of [top, nested]) {
        for (const path of ['/auth/register', '/auth/login']) {
          const r = await post(path, body);
          assert.equal(r.status, 400, `${path}: ${r.text}`);
          assert.equal(r.body.code, 'invalid_field');
        }
      }
      // The server runs in this process: its prototypes are ours.
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
      assert.equal(({} as Record<string, unknown>).isAdmin, undefined);
      // Other requests behave as before.
      const c = await signedIn();
      const me = await c.req('GET', '/auth/me');
      assert.equal(me.status, 200);
      assert.equal(me.body.polluted, undefined);
      assert.equal(me.body.user.isAdmin, undefined);
      assert.deepEqual(Object.keys(me.body).sort(), ['session', 'user']);
    });
  }
});

describe('unknown fields', () => {
  test('are ignored without effect: a client cannot choose its id, verification, creation time or role', async () => {
    const email = uniqueEmail('extra');
    const r = await new Client(t.url).req('POST', '/auth/register', {
      json: { email, password: GOOD_PASSWORD, id: 'attacker-id', email_verified: true, emailVerified: true, created_at: '2000-01-01T00:00:00Z', role: 'admin', is_admin: true },
    });
    assert.equal(r.status, 201);
    assert.notEqual(r.body.user.id, 'attacker-id');
    assert.equal(r.body.user.email_verified, false);
    assert.notEqual(r.body.user.created_at, '2000-01-01T00:00:00.000Z');
    assert.deepEqual(Object.keys(r.body.user).sort(), ['created_at', 'email', 'email_verified', 'id']);
    const c = new Client(t.url);
    const login = await c.req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD, session_id: 'fixed', expires_at: '2999-01-01T00:00:00Z', user_id: 'x' } });
    assert.equal(login.status, 200);
    assert.notEqual(login.body.session.id, 'fixed');
    assert.ok(Date.parse(login.body.session.expires_at) < Date.parse('2999-01-01T00:00:00Z'));
    assert.equal(login.body.user.id, r.body.user.id);
    assert.equal(login.body.user.email_verified, false);
  });
});
