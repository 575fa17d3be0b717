/**
 * Moving from express-session + connect-redis to Gatehouse on the same port, with the real packages
 * on a real Redis: users stay signed in, old cookies are spent once, bad ones are no credential.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { RedisStore } from 'connect-redis';
import express from 'express';
import session from 'express-session';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { createMemoryStores } from '../../src/stores/memory/index.js';
import type { Stores } from '../../src/ports.js';
import { Client, startTestServer, type TestServer } from '../support/server.js';
import { deletePrefix, requireRedis, skipReason, REDIS_URL, testPrefix } from '../support/services.js';

// The very signer express-session uses (the package ships no types).
const signature = createRequire(import.meta.url)('cookie-signature') as { sign(value: string, secret: string): string };

const OLD_SECRET = 'old app secret, still live';
const RETIRED_SECRET = 'an earlier secret, rotated out of express-session but still listed';
const HOUR = 3_600_000;

const redisUrl = await requireRedis();
const skip = redisUrl ? false : skipReason('Redis', REDIS_URL);

let redis: Redis;
let oldClient: ReturnType<typeof createClient>;
const base = testPrefix();
let n = 0;

before(async () => {
  if (!redisUrl) return;
  redis = new Redis(redisUrl);
  oldClient = createClient({ url: redisUrl });
  await oldClient.connect();
});

after(async () => {
  if (!redisUrl) return;
  await deletePrefix(redis as never, base);
  await oldClient.quit();
  await redis.quit();
});

interface OldApp {
  url: string;
  port: number;
  prefix: string;
  close(): Promise<void>;
}

/** The application as it was: express-session on connect-redis, signing in by setting a session field. */
async function startOldApp(opts: { maxAge?: number; secret?: string | string[] } = {}): Promise<OldApp> {
  const prefix = `${base}${++n}:sess:`;
  const app = express();
  app.use(
    session({
      store: new RedisStore({ client: oldClient, prefix }),
      secret: opts.secret ?? OLD_SECRET,
      resave: false,
      saveUninitialized: false,
      cookie: { maxAge: opts.maxAge ?? HOUR, httpOnly: true, sameSite: 'lax' },
    }),
  );
  app.post('/login', (req, res) => {
    const s = req.session as unknown as Record<string, unknown>;
    if (typeof req.query.id === 'string') s.userId = req.query.id;
    if (typeof req.query.email === 'string') s.user = { email: req.query.email, name: 'Old Name' };
    if (typeof req.query.cart === 'string') s.cart = JSON.parse(req.query.cart);
    if (typeof req.query.secretNote === 'string') s.secretNote = req.query.secretNote;
    res.json({ ok: true });
  });
  app.get('/me', (req, res) => {
    const s = req.session as unknown as Record<string, unknown>;
    if (!s.userId && !s.user) return res.status(401).json({ ok: false });
    res.json({ ok: true });
  });
  const server: Server = await new Promise((resolve) => {
    const srv = app.listen(0, '127.0.0.1', () => resolve(srv));
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    prefix,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function userIn(stores: Stores, email: string): Promise<string> {
  const id = `u${Math.random().toString(36).slice(2, 12)}`;
  const now = Date.now();
  assert.equal(await stores.users.createUser({ id, email, emailCanonical: email.toLowerCase(), passwordHash: 'x', createdAt: now, disabledAt: null, emailVerifiedAt: null, credentialVersion: 0, admin: false }), true);
  return id;
}

/** Signs in on the old app, closes it and starts Gatehouse on the very same port. */
async function switchOver(opts: { legacy?: Record<string, unknown> | null; maxAge?: number; login?: string; loginQuery?: Record<string, string>; userField?: string } = {}) {
  const stores = createMemoryStores();
  const email = `Person${++n}@Example.com`;
  const userId = await userIn(stores, email);
  const old = await startOldApp(opts.maxAge !== undefined ? { maxAge: opts.maxAge } : {});
  const browser = new Client(old.url);
  const query = new URLSearchParams({ id: userId, ...(opts.loginQuery ?? {}) });
  const login = await browser.req('POST', opts.login ?? `/login?${query}`);
  assert.equal(login.status, 200);
  assert.ok(browser.jar.get('connect.sid')?.startsWith('s%3A'), 'express-session set its signed cookie');
  const oldCookie = browser.jar.get('connect.sid')!;
  const sid = decodeURIComponent(oldCookie).slice(2).split('.')[0]!;
  const oldExpires = Date.parse(JSON.parse((await redis.get(old.prefix + sid))!).cookie.expires);
  assert.equal((await browser.req('GET', '/me')).status, 200);
  await old.close();
  const legacy = opts.legacy === null ? {} : { enabled: true, secrets: [RETIRED_SECRET, OLD_SECRET], redisUrl: redisUrl!, prefix: old.prefix, userField: opts.userField ?? 'userId', ...(opts.legacy ?? {}) };
  const t = await startTestServer({ stores, port: old.port, config: { legacy } });
  return { t, browser, oldCookie, sid, oldExpires, userId, email, prefix: old.prefix, stores };
}

describe('migration from express-session on connect-redis', { skip }, () => {
  let servers: TestServer[] = [];
  const track = <T extends { t: TestServer }>(x: T): T => {
    servers.push(x.t);
    return x;
  };
  after(async () => {
    for (const s of servers) await s.close();
    servers = [];
  });

  test('a browser signed in on the old app is still signed in after the port switches to Gatehouse', async () => {
    const { t, browser, userId, sid, prefix } = track(await switchOver());
    // The jar still holds only the old cookie, addressed to the same origin.
    const me = await browser.req('GET', '/auth/me');
    assert.equal(me.status, 200);
    assert.equal(me.body.user.id, userId);
    assert.ok(browser.jar.has('__Host-gatehouse'), 'now holds the Gatehouse session cookie');
    assert.equal(browser.jar.has('connect.sid'), false, 'the old cookie was cleared');
    const cleared = me.headers.getSetCookie().find((c) => c.startsWith('connect.sid='));
    assert.match(cleared!, /^connect\.sid=; Path=\/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT$/);
    const next = await browser.req('GET', '/auth/me');
    assert.equal(next.status, 200);
    assert.equal(next.headers.getSetCookie().length, 0, 'later requests ride the Gatehouse session and set nothing');
    // The old entry is no longer a session: a marker that expires on its own.
    const raw = await redis.get(prefix + sid);
    assert.ok(raw?.startsWith('{"gh_migrated"'), 'the old session was replaced by a marker');
    assert.equal(raw!.includes('userId'), true);
    const ttl = await redis.pttl(prefix + sid);
    assert.ok(ttl > 0 && ttl <= 15_000, `the marker expires within seconds (PTTL ${ttl})`);
    const events = await t.stores.audit.listEvents({ userId, limit: 10 });
    const migrated = events.find((e) => e.type === 'session.migrated');
    assert.ok(migrated, 'the migration is in the audit trail');
    assert.equal(JSON.stringify(migrated).includes(sid), false, 'the old session id is not recorded');
  });

  test('a migration marker forged inside old session data signs nobody in, whatever its time', async () => {
    const { t, browser, sid, prefix } = track(await switchOver());
    // The victim: an account with a live Gatehouse session (session handles are not secrets).
    const victimEmail = `victim${++n}@example.com`;
    const v = new Client(t.url);
    assert.equal((await v.req('POST', '/auth/register', { json: { email: victimEmail, password: 'victim passphrase 1' } })).status, 201);
    const vLogin = await v.req('POST', '/auth/login', { json: { email: victimEmail, password: 'victim passphrase 1' } });
    assert.equal(vLogin.status, 200);
    const victim = { id: vLogin.body.user.id as string, sid: vLogin.body.session.id as string };
    // The attacker's old session holds data the old app let them choose, shaped like a finished migration.
    for (const at of [Date.now(), Date.now() + HOUR]) {
      const old = JSON.parse((await redis.get(prefix + sid))!) as Record<string, unknown>;
      old.gh_migrated = { claim: 'forged', sessionId: victim.sid, userId: victim.id, at };
      await redis.set(prefix + sid, JSON.stringify(old), 'PX', HOUR);
      const me = await browser.req('GET', '/auth/me');
      assert.equal(me.status, 401, `at ${at - Date.now()} ms from now: ${me.text}`);
      assert.equal(browser.jar.has('__Host-gatehouse'), false, 'no session cookie was handed out');
    }
    assert.equal((await v.req('GET', '/auth/me')).body.user.id, victim.id, "the victim's own session is untouched");
  });

  test('the listed fields of the old session data move into the new session\'s data, and nothing else', async () => {
    const cart = [{ sku: 'A-1', qty: 2 }, { sku: 'B-7', qty: 1 }];
    const { t, browser, userId } = track(
      await switchOver({ legacy: { dataFields: ['cart', 'absent'] }, loginQuery: { cart: JSON.stringify(cart), secretNote: 'not listed' } }),
    );
    const me = await browser.req('GET', '/auth/me');
    assert.equal(me.status, 200);
    const [session] = await t.stores.sessions.listSessionsByUser(userId, Date.now());
    assert.ok(session);
    // Only the listed field that exists; not express-session's cookie, not unlisted fields, not the user field.
    assert.deepEqual(await t.stores.sessions.getSessionData(session.id), { cart });
    const migrated = (await t.stores.audit.listEvents({ userId, limit: 10 })).find((e) => e.type === 'session.migrated');
    assert.equal((migrated?.detail as Record<string, unknown>).data, 'carried');
  });

  test('old data over the session data bound is dropped, the sign-in still moves, and the audit says so', async () => {
    const cart = Array.from({ length: 200 }, (_, i) => ({ sku: `SKU-${i}`, qty: i }));
    const { t, browser, userId } = track(
      await switchOver({ legacy: { dataFields: ['cart'] }, loginQuery: { cart: JSON.stringify(cart) } }),
    );
    assert.equal((await browser.req('GET', '/auth/me')).status, 200);
    const [session] = await t.stores.sessions.listSessionsByUser(userId, Date.now());
    assert.deepEqual(await t.stores.sessions.getSessionData(session!.id), {});
    const migrated = (await t.stores.audit.listEvents({ userId, limit: 10 })).find((e) => e.type === 'session.migrated');
    assert.equal((migrated?.detail as Record<string, unknown>).data, 'too_large');
  });

  test('without data fields nothing of the old data is carried', async () => {
    const { t, browser, userId } = track(await switchOver({ loginQuery: { cart: '[1,2,3]' } }));
    assert.equal((await browser.req('GET', '/auth/me')).status, 200);
    const [session] = await t.stores.sessions.listSessionsByUser(userId, Date.now());
    assert.deepEqual(await t.stores.sessions.getSessionData(session!.id), {});
  });

  test('the old cookie alone no longer works once the migration is done', async () => {
    const { t, browser, oldCookie } = track(await switchOver());
    assert.equal((await browser.req('GET', '/auth/me')).status, 200);
    t.clock.advance(10_001);
    const replay = await fetch(`${t.url}/auth/me`, { headers: { cookie: `connect.sid=${oldCookie}` } });
    assert.equal(replay.status, 401);
    assert.equal(replay.headers.getSetCookie().some((c) => c.startsWith('__Host-gatehouse=')), false, 'no second session is issued');
    await replay.body?.cancel();
  });

  test('ten parallel first requests with one old cookie all succeed and end in one Gatehouse session', async () => {
    const { t, oldCookie, userId } = track(await switchOver());
    const answers = await Promise.all(
      Array.from({ length: 10 }, async () => {
        const r = await fetch(`${t.url}/auth/me`, { headers: { cookie: `connect.sid=${oldCookie}` } });
        const body = (await r.json()) as { user?: { id: string } };
        return { status: r.status, body, cookies: r.headers.getSetCookie() };
      }),
    );
    assert.deepEqual(answers.map((a) => a.status), Array(10).fill(200));
    assert.ok(answers.every((a) => a.body.user?.id === userId));
    const issued = answers.filter((a) => a.cookies.some((c) => c.startsWith('__Host-gatehouse=')));
    assert.equal(issued.length, 1, 'exactly one response carries the new session cookie');
    const sessions = await t.stores.sessions.listSessionsByUser(userId, t.clock.now());
    assert.equal(sessions.length, 1, 'exactly one Gatehouse session exists');
  });

  test('migration never extends the old session past its own expiry', async () => {
    const { t, browser, oldExpires } = track(await switchOver({ maxAge: 20 * 60_000 }));
    const me = await browser.req('GET', '/auth/me');
    assert.equal(me.status, 200);
    const list = await browser.req('GET', '/auth/sessions');
    assert.equal(list.status, 200);
    const expiresAt = Date.parse(list.body.sessions[0].expires_at);
    assert.ok(expiresAt <= oldExpires, `new expiry ${list.body.sessions[0].expires_at} is not after the old ${new Date(oldExpires).toISOString()}`);
    assert.ok(expiresAt >= oldExpires - 1000, 'and keeps the old session its remaining time');
    const setCookie = me.headers.getSetCookie().find((c) => c.startsWith('__Host-gatehouse='))!;
    const maxAge = Number(/Max-Age=(\d+)/.exec(setCookie)![1]);
    assert.ok(maxAge <= (oldExpires - t.clock.now()) / 1000, `cookie Max-Age ${maxAge} stays within the old expiry`);
  });

  test('an old session that names its user by email is matched to the Gatehouse user with that address', async () => {
    const n0 = n + 1;
    const { browser, userId } = track(await switchOver({ login: `/login?email=${encodeURIComponent(`PERSON${n0}@example.COM`)}`, userField: 'user.email' }));
    const me = await browser.req('GET', '/auth/me');
    assert.equal(me.status, 200);
    assert.equal(me.body.user.id, userId);
  });

  test('forged, unsigned and unknown-secret old cookies are no credential and leave the old session alone', async () => {
    const { t, oldCookie, sid, prefix } = track(await switchOver());
    const mac = decodeURIComponent(oldCookie).split('.').pop()!;
    const flipped = (mac[0] === 'A' ? 'B' : 'A') + mac.slice(1);
    const forged = [
      `s%3A${sid}.${flipped}`, // bad signature
      sid, // unsigned
      `s%3A${sid}`, // no signature at all
      encodeURIComponent(`s:${signature.sign(sid, 'a secret Gatehouse was never given')}`), // another secret
      `s%3A${sid}.${mac}%ZZ`, // not URL-decodable
    ];
    for (const value of forged) {
      const r = await fetch(`${t.url}/auth/me`, { headers: { cookie: `connect.sid=${value}` } });
      assert.equal(r.status, 401, `connect.sid=${value}`);
      assert.equal(r.headers.getSetCookie().some((c) => c.startsWith('__Host-gatehouse=')), false);
      await r.body?.cancel();
    }
    const raw = await redis.get(prefix + sid);
    assert.ok(raw && !raw.startsWith('{"gh_migrated"'), 'the old session is untouched');
    // A cookie signed with a retired secret that is still listed works (rotation in express-session).
    const rotated = encodeURIComponent(`s:${signature.sign(sid, RETIRED_SECRET)}`);
    const ok = await fetch(`${t.url}/auth/me`, { headers: { cookie: `connect.sid=${rotated}` } });
    assert.equal(ok.status, 200);
    await ok.body?.cancel();
  });

  test('an expired old session is no credential', async () => {
    const { t, browser, oldExpires, userId } = track(await switchOver({ maxAge: 60_000 }));
    t.clock.set(oldExpires + 1);
    const me = await browser.req('GET', '/auth/me');
    assert.equal(me.status, 401);
    assert.equal(browser.jar.has('__Host-gatehouse'), false);
    assert.equal((await t.stores.sessions.listSessionsByUser(userId, t.clock.now())).length, 0);
  });

  test('an old session whose user is missing or disabled is no credential', async () => {
    const { t, browser, userId, sid, prefix } = track(await switchOver());
    await t.stores.users.setDisabled(userId, Date.now());
    assert.equal((await browser.req('GET', '/auth/me')).status, 401);
    const raw = await redis.get(prefix + sid);
    assert.ok(raw && !raw.startsWith('{"gh_migrated"'), 'the old session is not consumed');
  });

  test('with migration off the old cookie is ignored entirely', async () => {
    const { browser, sid, prefix } = track(await switchOver({ legacy: null }));
    const me = await browser.req('GET', '/auth/me');
    assert.equal(me.status, 401);
    assert.equal(me.headers.getSetCookie().length, 0);
    assert.ok(browser.jar.has('connect.sid'));
    assert.ok((await redis.get(prefix + sid))?.includes('"cookie"'), 'the old session is untouched');
  });

  test('the legacy report counts the old sessions left, and one fewer after a migration', async () => {
    const { browser, prefix } = track(await switchOver());
    // A second old session under the same prefix, written in connect-redis's format.
    await redis.set(`${prefix}another`, JSON.stringify({ cookie: { originalMaxAge: HOUR, expires: new Date(Date.now() + HOUR).toISOString() }, userId: 'x' }), 'PX', HOUR);
    const report = async () => {
      const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/server/cli-main.ts', 'legacy', 'report'], {
        env: { ...process.env, GATEHOUSE_DATABASE_URL: 'memory:', GATEHOUSE_LEGACY_REDIS_URL: redisUrl!, GATEHOUSE_LEGACY_PREFIX: prefix },
        timeout: 30_000,
      });
      return JSON.parse(stdout.trim()) as { remaining: number };
    };
    assert.equal((await report()).remaining, 2);
    assert.equal((await browser.req('GET', '/auth/me')).status, 200);
    assert.equal((await report()).remaining, 1);
  });
});
