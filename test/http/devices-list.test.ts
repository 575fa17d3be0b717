/** GET /auth/sessions: every live session of the user, in both modes, as a device list. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client, startTestServer, uniqueEmail, type TestServer } from '../support/server.js';
import { cookieLogin, register, tokenLogin } from '../support/flows.js';

const UA = {
  chromeWindows: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
  safariIphone: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1',
  firefoxLinux: 'Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0',
};

const LOOPBACK = new Set(['127.0.0.1', '::ffff:127.0.0.1']);

describe('device list', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(() => t.close());

  test('lists the live sessions of both modes with handle, current flag, mode, parsed device, ip and times', async () => {
    const email = uniqueEmail('list');
    await register(t, email);
    const created = t.clock.now();
    const chrome = await cookieLogin(t, email, { headers: { 'user-agent': UA.chromeWindows } });
    const iphone = await tokenLogin(t, email, { headers: { 'user-agent': UA.safariIphone } });
    const firefox = await cookieLogin(t, email, { headers: { 'user-agent': UA.firefoxLinux } });

    const r = await chrome.client.req('GET', '/auth/sessions', { headers: { 'user-agent': UA.chromeWindows } });
    assert.equal(r.status, 200);
    const list = r.body.sessions as any[];
    assert.equal(list.length, 3);
    const byId = new Map(list.map((s) => [s.id, s]));
    assert.deepEqual(new Set(byId.keys()), new Set([chrome.id, iphone.id, firefox.id]));

    const c = byId.get(chrome.id);
    assert.equal(c.current, true);
    assert.equal(c.mode, 'session');
    assert.deepEqual(c.device, { browser: 'Chrome', os: 'Windows', type: 'desktop' });
    const i = byId.get(iphone.id);
    assert.equal(i.current, false);
    assert.equal(i.mode, 'token');
    assert.deepEqual(i.device, { browser: 'Safari', os: 'iOS', type: 'mobile' });
    const f = byId.get(firefox.id);
    assert.equal(f.current, false);
    assert.equal(f.mode, 'session');
    assert.deepEqual(f.device, { browser: 'Firefox', os: 'Linux', type: 'desktop' });

    for (const s of list) {
      assert.deepEqual(Object.keys(s).sort(), ['acr', 'amr', 'auth_time', 'binding', 'created_at', 'current', 'device', 'expires_at', 'id', 'ip', 'last_seen_at', 'mode', 'provider']);
      // A password sign-in came through no identity provider.
      assert.equal(s.provider, null);
      // Each signed in with a password alone.
      assert.deepEqual([s.amr, s.acr, s.auth_time], [['pwd'], 'aal1', new Date(created).toISOString()]);
      assert.equal(s.binding, null, 'signed in without a device key');
      assert.ok(LOOPBACK.has(s.ip), `ip ${s.ip}`);
      assert.equal(s.created_at, new Date(created).toISOString());
      assert.equal(s.last_seen_at, new Date(created).toISOString());
      assert.ok(Date.parse(s.expires_at) > created);
    }
    // Cookie sessions expire at their idle timeout (30 min), token sessions at the refresh idle timeout (14 d).
    assert.equal(c.expires_at, new Date(created + 30 * 60_000).toISOString());
    assert.equal(i.expires_at, new Date(created + 14 * 86_400_000).toISOString());
  });

  test('the handle is not a credential: it matches neither the cookie value nor any token', async () => {
    const email = uniqueEmail('handle');
    await register(t, email);
    const a = await cookieLogin(t, email);
    const b = await tokenLogin(t, email);
    const r = await a.client.req('GET', '/auth/sessions');
    const text = r.text;
    const cookieSecret = a.cookie.slice(a.cookie.indexOf('.') + 1);
    assert.ok(cookieSecret.length >= 16);
    assert.ok(!text.includes(a.cookie) && !text.includes(cookieSecret), 'cookie secret leaked');
    assert.ok(!text.includes(b.access) && !text.includes(b.refresh), 'token leaked');
    // Presenting a handle as a cookie or a bearer token authenticates nothing.
    const asCookie = await new Client(t.url).req('GET', '/auth/me', { headers: { cookie: `__Host-gatehouse=${b.id}` } });
    assert.equal(asCookie.status, 401);
    const asBearer = await new Client(t.url).req('GET', '/auth/me', { bearer: b.id });
    assert.equal(asBearer.status, 401);
  });

  test('a bearer request sees the same list, with its own session marked current', async () => {
    const email = uniqueEmail('bearerlist');
    await register(t, email);
    const a = await cookieLogin(t, email);
    const b = await tokenLogin(t, email);
    const r = await new Client(t.url).req('GET', '/auth/sessions', { bearer: b.access });
    assert.equal(r.status, 200);
    const current = (r.body.sessions as any[]).filter((s) => s.current).map((s) => s.id);
    assert.deepEqual(current, [b.id]);
    assert.deepEqual(new Set((r.body.sessions as any[]).map((s) => s.id)), new Set([a.id, b.id]));
  });

  test('last_seen_at moves when a session is used after the renewal interval', async () => {
    const email = uniqueEmail('seen');
    await register(t, email);
    const a = await cookieLogin(t, email);
    const start = t.clock.now();
    t.clock.advance(5 * 60_000);
    const r = await a.client.req('GET', '/auth/sessions');
    const me = (r.body.sessions as any[]).find((s) => s.id === a.id);
    assert.equal(me.created_at, new Date(start).toISOString());
    assert.equal(me.last_seen_at, new Date(start + 5 * 60_000).toISOString());
  });

  test('only the user’s own sessions are listed, and an anonymous request gets 401', async () => {
    const alice = uniqueEmail('alice');
    const bob = uniqueEmail('bob');
    await register(t, alice);
    await register(t, bob);
    const a = await cookieLogin(t, alice);
    const b = await cookieLogin(t, bob);
    const r = await a.client.req('GET', '/auth/sessions');
    assert.deepEqual((r.body.sessions as any[]).map((s) => s.id), [a.id]);
    assert.ok(!r.text.includes(b.id));
    assert.equal((await new Client(t.url).req('GET', '/auth/sessions')).status, 401);
  });

  test('X-Forwarded-For is ignored by default', async () => {
    const email = uniqueEmail('xff');
    await register(t, email);
    const a = await cookieLogin(t, email, { headers: { 'x-forwarded-for': '203.0.113.7' } });
    const r = await a.client.req('GET', '/auth/sessions');
    assert.ok(LOOPBACK.has(r.body.sessions[0].ip), `ip ${r.body.sessions[0].ip}`);
  });
});

describe('device list behind a trusted proxy', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ config: { trustProxy: 'loopback' } });
  });
  after(() => t.close());

  test('X-Forwarded-For from a trusted loopback proxy sets the client ip, in both modes', async () => {
    const email = uniqueEmail('proxy');
    await register(t, email);
    const a = await cookieLogin(t, email, { headers: { 'x-forwarded-for': '203.0.113.7' } });
    const b = await tokenLogin(t, email, { headers: { 'x-forwarded-for': '198.51.100.9, 127.0.0.1' } });
    const r = await a.client.req('GET', '/auth/sessions');
    const ips = new Map((r.body.sessions as any[]).map((s) => [s.id, s.ip]));
    assert.equal(ips.get(a.id), '203.0.113.7');
    assert.equal(ips.get(b.id), '198.51.100.9');
  });
});
