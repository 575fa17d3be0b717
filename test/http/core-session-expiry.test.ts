import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client, GOOD_PASSWORD, startTestServer, uniqueEmail, type TestServer } from '../support/server.js';

const MIN = 60_000;
const COOKIE = '__Host-gatehouse';

let t: TestServer;
before(async () => {
  // Default timeouts (30 min idle, 12 h absolute) and renewal interval (1 min).
  t = await startTestServer({ config: { session: { renewInterval: '1m' } } });
});
after(() => t.close());

async function signedIn(): Promise<Client> {
  const email = uniqueEmail('exp');
  const c = new Client(t.url);
  assert.equal((await c.req('POST', '/auth/register', { json: { email, password: GOOD_PASSWORD } })).status, 201);
  assert.equal((await c.req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD } })).status, 200);
  return c;
}

/** Counts store writes of the sliding renewal. */
function countTouches(): { count: () => number; restore: () => void } {
  const store = t.stores.sessions;
  const original = store.touchSession;
  let n = 0;
  store.touchSession = function (this: unknown, ...args: Parameters<typeof original>) {
    n++;
    return original.apply(store, args);
  } as typeof original;
  return { count: () => n, restore: () => void (store.touchSession = original) };
}

describe('idle timeout', () => {
  test('a session unused for 30 minutes is gone (401); used within 30 minutes it lives on', async () => {
    const c = await signedIn();
    t.clock.advance(29 * MIN);
    assert.equal((await c.req('GET', '/auth/me')).status, 200, 'still alive at 29 min');
    t.clock.advance(29 * MIN);
    assert.equal((await c.req('GET', '/auth/me')).status, 200, 'the previous request slid the idle expiry');
    const saved = c.jar.get(COOKIE)!;
    t.clock.advance(30 * MIN + 1000);
    const r = await c.req('GET', '/auth/me');
    assert.equal(r.status, 401);
    assert.equal(r.body.code, 'unauthenticated');
    // Replaying the cookie later does not revive it.
    assert.equal((await new Client(t.url).req('GET', '/auth/me', { headers: { cookie: `${COOKIE}=${saved}` } })).status, 401);
  });

  test('the idle timeout is configurable (GATEHOUSE_SESSION_IDLE_TTL / session.idleTtl)', async () => {
    const s = await startTestServer({ config: { session: { idleTtl: '5s', renewInterval: 0 } } });
    try {
      const email = uniqueEmail('idle5');
      const c = new Client(s.url);
      await c.req('POST', '/auth/register', { json: { email, password: GOOD_PASSWORD } });
      const login = await c.req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD } });
      assert.equal(Date.parse(login.body.session.idle_expires_at) - Date.parse(login.body.session.created_at), 5000);
      s.clock.advance(4000);
      assert.equal((await c.req('GET', '/auth/me')).status, 200);
      s.clock.advance(5001);
      assert.equal((await c.req('GET', '/auth/me')).status, 401);
    } finally {
      await s.close();
    }
  });
});

describe('a short idle lifetime with the renewal interval left unset', () => {
  test('idleTtl 4s alone: a user active every second stays signed in well past 4 s, and is signed out 4 s after stopping', async () => {
    // Library use passing only session.idleTtl (GATEHOUSE_SESSION_IDLE_TTL=4s alone is the same config).
    const s = await startTestServer({ config: { session: { idleTtl: '4s' } } });
    try {
      const email = uniqueEmail('idle4');
      const c = new Client(s.url);
      await c.req('POST', '/auth/register', { json: { email, password: GOOD_PASSWORD } });
      assert.equal((await c.req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD } })).status, 200);
      for (let second = 1; second <= 20; second++) {
        s.clock.advance(1000);
        const me = await c.req('GET', '/auth/me');
        assert.equal(me.status, 200, `active user signed out after ${second} s`);
      }
      s.clock.advance(4001);
      assert.equal((await c.req('GET', '/auth/me')).status, 401, 'idle for over 4 s: signed out');
    } finally {
      await s.close();
    }
  });
});

describe('absolute timeout', () => {
  test('a session in constant use still ends after 12 hours', async () => {
    const c = await signedIn();
    for (let elapsed = 0; elapsed < 12 * 60 - 20; elapsed += 20) {
      t.clock.advance(20 * MIN);
      const me = await c.req('GET', '/auth/me');
      assert.equal(me.status, 200, `alive after ${elapsed + 20} min`);
      assert.ok(Date.parse(me.body.session.idle_expires_at) <= Date.parse(me.body.session.expires_at), 'idle expiry never passes the absolute one');
    }
    t.clock.set(t.clock.now() + 21 * MIN); // now past 12 h since login
    assert.equal((await c.req('GET', '/auth/me')).status, 401);
  });
});

describe('sliding renewal', () => {
  test('writes to the store at most once per renewal interval, never on every request', async () => {
    const c = await signedIn();
    const touches = countTouches();
    try {
      for (let i = 0; i < 20; i++) assert.equal((await c.req('GET', '/auth/me')).status, 200);
      assert.equal(touches.count(), 0, 'no write within the first interval');
      t.clock.advance(61_000);
      for (let i = 0; i < 20; i++) assert.equal((await c.req('GET', '/auth/me')).status, 200);
      assert.equal(touches.count(), 1, 'one write after the interval passed');
      for (let round = 0; round < 5; round++) {
        t.clock.advance(20_000);
        for (let i = 0; i < 5; i++) await c.req('GET', '/auth/me');
      }
      // 100 s more of steady use: at most two further intervals began.
      assert.ok(touches.count() <= 3, `touches: ${touches.count()}`);
      assert.ok(touches.count() >= 2, `renewal still happens: ${touches.count()}`);
    } finally {
      touches.restore();
    }
  });
});

describe('me and logout', () => {
  test('GET /auth/me without a session is 401 problem+json', async () => {
    const r = await new Client(t.url).req('GET', '/auth/me');
    assert.equal(r.status, 401);
    assert.match(r.headers.get('content-type')!, /^application\/problem\+json/);
    assert.equal(r.body.code, 'unauthenticated');
    assert.equal(r.body.status, 401);
    assert.ok(r.body.type && r.body.title);
  });

  test('GET /auth/me with a session is 200 {user, session}', async () => {
    const c = await signedIn();
    const r = await c.req('GET', '/auth/me');
    assert.equal(r.status, 200);
    assert.ok(r.body.user.id && r.body.user.email);
    assert.ok(r.body.session.id && r.body.session.expires_at && r.body.session.idle_expires_at);
  });

  test('POST /auth/logout without a session is 401 problem+json', async () => {
    const r = await new Client(t.url).req('POST', '/auth/logout');
    assert.equal(r.status, 401);
    assert.match(r.headers.get('content-type')!, /^application\/problem\+json/);
  });

  test('logout is 204, clears the cookie with the same attributes, deletes the record, and a replay gets 401', async () => {
    const c = await signedIn();
    const token = c.jar.get(COOKIE)!;
    const sid = token.split('.')[0]!;
    const r = await c.req('POST', '/auth/logout');
    assert.equal(r.status, 204);
    assert.equal(r.text, '');
    const cleared = r.headers.getSetCookie().find((s) => s.startsWith(`${COOKIE}=`));
    assert.ok(cleared, 'a clearing Set-Cookie');
    const attrs = cleared.split(';').map((a) => a.trim());
    assert.equal(attrs[0], `${COOKIE}=`);
    for (const a of ['Path=/', 'HttpOnly', 'Secure', 'SameSite=Lax', 'Max-Age=0']) assert.ok(attrs.includes(a), `${a} in ${cleared}`);
    assert.ok(!attrs.some((a) => /^domain=/i.test(a)));
    assert.equal(await t.stores.sessions.getSession(sid, t.clock.now()), null, 'the server record is gone');
    const replay = await new Client(t.url).req('GET', '/auth/me', { headers: { cookie: `${COOKIE}=${token}` } });
    assert.equal(replay.status, 401);
    assert.equal((await new Client(t.url).req('POST', '/auth/logout', { headers: { cookie: `${COOKIE}=${token}` } })).status, 401);
  });
});
