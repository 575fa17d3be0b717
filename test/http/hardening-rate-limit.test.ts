/**
 * Brute-force limits over HTTP: per account (canonical email) and per IP, for login, register,
 * refresh and reauth; 429 with Retry-After; no oracle while throttled; shared across instances on
 * Redis; off only when asked, with a warning.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { configInputFromEnv, resolveConfig, type GatehouseConfigInput } from '../../src/config.js';
import { checkProductionConfig } from '../../src/server/preflight.js';
import { createMemoryStores } from '../../src/stores/memory/index.js';
import { Client, GOOD_PASSWORD, startTestServer, uniqueEmail, type TestServer } from '../support/server.js';
import { requireRedis, skipReason, REDIS_URL } from '../support/services.js';

type Res = Awaited<ReturnType<Client['req']>>;
const WRONG = 'not the right password at all';

const servers: TestServer[] = [];
after(async () => {
  for (const s of servers) await s.close();
});

async function server(rateLimits: Record<string, unknown>, extra: GatehouseConfigInput = {}): Promise<TestServer> {
  const s = await startTestServer({ config: { ...extra, rateLimits: { enabled: true, ...rateLimits } } as GatehouseConfigInput });
  servers.push(s);
  return s;
}

async function register(t: TestServer, email = uniqueEmail('rl')): Promise<string> {
  const r = await new Client(t.url).req('POST', '/auth/register', { json: { email, password: GOOD_PASSWORD } });
  assert.equal(r.status, 201, r.text);
  return email;
}

const login = (t: TestServer, email: string, password: string, headers: Record<string, string> = {}) =>
  new Client(t.url).req('POST', '/auth/login', { json: { email, password }, headers });

function assertLimited(r: Res, maxSeconds: number): void {
  assert.equal(r.status, 429, r.text);
  assert.equal(r.body.code, 'rate_limited');
  assert.match(r.headers.get('content-type') ?? '', /^application\/problem\+json/);
  const after = Number(r.headers.get('retry-after'));
  assert.ok(Number.isInteger(after) && after >= 1 && after <= maxSeconds, `Retry-After ${r.headers.get('retry-after')}`);
  assert.deepEqual(r.headers.getSetCookie(), []);
}

describe('per account', () => {
  test('after the allowed failures the account gets 429 with Retry-After, and even the right password is refused the same way', async () => {
    const t = await server({ accountAttempts: 3, accountWindow: '15m', accountBlock: '15m' });
    const email = await register(t);
    for (let i = 0; i < 3; i++) assert.equal((await login(t, email, WRONG)).status, 401);
    const wrong = await login(t, email, WRONG);
    assertLimited(wrong, 900);
    const right = await login(t, email, GOOD_PASSWORD);
    assertLimited(right, 900);
    assert.deepEqual(right.body, wrong.body, 'no oracle: the right password gets the same answer');
  });

  test('another account from the same address is not affected', async () => {
    const t = await server({ accountAttempts: 2 });
    const victim = await register(t);
    const other = await register(t);
    for (let i = 0; i < 3; i++) await login(t, victim, WRONG);
    assert.equal((await login(t, victim, GOOD_PASSWORD)).status, 429);
    assert.equal((await login(t, other, GOOD_PASSWORD)).status, 200);
  });

  test('a successful login resets the count, so a typo or two never locks the owner out', async () => {
    const t = await server({ accountAttempts: 3 });
    const email = await register(t);
    for (let round = 0; round < 3; round++) {
      assert.equal((await login(t, email, WRONG)).status, 401);
      assert.equal((await login(t, email, WRONG)).status, 401);
      assert.equal((await login(t, email, GOOD_PASSWORD)).status, 200);
    }
  });

  test('spellings of one address (case, spaces, fullwidth, Kelvin sign) share one budget', async () => {
    const t = await server({ accountAttempts: 3 });
    const local = `kate${randomBytes(4).toString('hex')}`;
    const email = await register(t, `${local}@example.com`);
    const variants = [`${local.toUpperCase()}@EXAMPLE.COM`, `  ${local}@example.com `, `${local.replace('k', '\u212A')}@example.com`];
    for (const v of variants) assert.equal((await login(t, v, WRONG)).status, 401, v);
    assert.equal((await login(t, email, GOOD_PASSWORD)).status, 429);
  });

  test('parallel guesses cannot slip past the limit: attempts count before the password is checked', async () => {
    const t = await server({ accountAttempts: 5 });
    const email = await register(t);
    const results = await Promise.all(Array.from({ length: 20 }, () => login(t, email, WRONG)));
    const statuses = results.map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 401).length, 5, statuses.join(','));
    assert.equal(statuses.filter((s) => s === 429).length, 15);
  });

  test('reauth shares the account budget: wrong reauth passwords throttle reauth and login alike', async () => {
    const t = await server({ accountAttempts: 3 });
    const email = await register(t);
    const c = new Client(t.url);
    assert.equal((await c.req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD } })).status, 200);
    for (let i = 0; i < 3; i++) assert.equal((await c.req('POST', '/auth/reauth', { json: { password: WRONG } })).status, 401);
    assertLimited(await c.req('POST', '/auth/reauth', { json: { password: GOOD_PASSWORD } }), 900);
    assert.equal((await login(t, email, GOOD_PASSWORD)).status, 429);
    assert.equal((await c.req('GET', '/auth/me')).status, 200, 'the signed-in session itself is untouched');
  });

  test('registering one address is limited per address, the same whether it exists or not', async () => {
    const t = await server({ accountAttempts: 3 });
    const existing = await register(t); // 1 attempt spent
    const fresh = uniqueEmail('fresh');
    const statuses = (email: string) => new Client(t.url).req('POST', '/auth/register', { json: { email, password: GOOD_PASSWORD } });
    assert.equal((await statuses(existing)).status, 201);
    assert.equal((await statuses(existing)).status, 201);
    assertLimited(await statuses(existing), 900);
    for (let i = 0; i < 3; i++) assert.equal((await statuses(fresh)).status, 201);
    assertLimited(await statuses(fresh), 900);
  });

  test('the default limits stay within ASVS: at most 100 failures an hour per account', () => {
    const c = resolveConfig({});
    assert.equal(c.rateLimits.enabled, true);
    const perHour = c.rateLimits.accountAttempts * Math.ceil(3_600_000 / Math.max(c.rateLimits.accountWindow, c.rateLimits.accountBlock));
    assert.ok(perHour <= 100, `${perHour}`);
    assert.deepEqual(checkProductionConfig({ ...c, databaseUrl: 'sqlite:./x.db' }), []);
    const loose = resolveConfig({ rateLimits: { accountAttempts: 50, accountWindow: '1m', accountBlock: '1m' } });
    assert.ok(checkProductionConfig({ ...loose, databaseUrl: 'sqlite:./x.db' }).some((w) => /ASVS/.test(w)));
  });
});

describe('per IP', () => {
  test('failures across many accounts from one address throttle the address, even for a right password', async () => {
    const t = await server({ ipFailures: 4, accountAttempts: 100 });
    const mine = await register(t);
    for (let i = 0; i < 4; i++) assert.equal((await login(t, uniqueEmail('spray'), WRONG)).status, 401);
    assertLimited(await login(t, mine, GOOD_PASSWORD), 3600);
  });

  test('a spoofed X-Forwarded-For is ignored when no proxy is trusted', async () => {
    const t = await server({ ipFailures: 3, accountAttempts: 100 });
    for (let i = 0; i < 3; i++) assert.equal((await login(t, uniqueEmail('xff'), WRONG, { 'x-forwarded-for': `203.0.113.${i + 1}` })).status, 401);
    assertLimited(await login(t, uniqueEmail('xff'), WRONG, { 'x-forwarded-for': '198.51.100.77' }), 3600);
  });

  test('behind a trusted proxy each forwarded client has its own budget (positive control)', async () => {
    const t = await server({ ipFailures: 3, accountAttempts: 100 }, { trustProxy: 'loopback' });
    for (let i = 0; i < 3; i++) assert.equal((await login(t, uniqueEmail('px'), WRONG, { 'x-forwarded-for': '203.0.113.9' })).status, 401);
    assertLimited(await login(t, uniqueEmail('px'), WRONG, { 'x-forwarded-for': '203.0.113.9' }), 3600);
    assert.equal((await login(t, uniqueEmail('px'), WRONG, { 'x-forwarded-for': '203.0.113.10' })).status, 401);
    // IPv6 clients are counted per /64: another address in the same /64 shares the budget.
    for (let i = 0; i < 3; i++) await login(t, uniqueEmail('px6'), WRONG, { 'x-forwarded-for': `2001:db8:1:2::${i + 1}` });
    assert.equal((await login(t, uniqueEmail('px6'), WRONG, { 'x-forwarded-for': '2001:db8:1:2:ffff::9' })).status, 429);
    assert.equal((await login(t, uniqueEmail('px6'), WRONG, { 'x-forwarded-for': '2001:db8:1:3::1' })).status, 401);
  });

  test('invalid refresh tokens count as failures: 400 until the budget is spent, then 429', async () => {
    const t = await server({ ipFailures: 3 });
    for (let i = 0; i < 3; i++) {
      const r = await new Client(t.url).req('POST', '/auth/refresh', { json: { refresh_token: `bogus${i}.${randomBytes(16).toString('base64url')}` } });
      assert.equal(r.status, 400, r.text);
    }
    assertLimited(await new Client(t.url).req('POST', '/auth/refresh', { json: { refresh_token: 'x.y' } }), 3600);
  });

  test('valid refreshes are never counted as failures (20 in a row pass)', async () => {
    const t = await server({ ipFailures: 2, accountAttempts: 2 });
    const email = await register(t);
    const l = await new Client(t.url).req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD, mode: 'token' } });
    let rt = l.body.refresh_token as string;
    for (let i = 0; i < 20; i++) {
      const r = await new Client(t.url).req('POST', '/auth/refresh', { json: { refresh_token: rt } });
      assert.equal(r.status, 200, r.text);
      rt = r.body.refresh_token;
    }
  });

  test('every request to the credential endpoints spends the per-IP request budget', async () => {
    const t = await server({ ipRequests: 5 });
    for (let i = 0; i < 5; i++) assert.equal((await new Client(t.url).req('POST', '/auth/register', { json: { email: uniqueEmail('b'), password: GOOD_PASSWORD } })).status, 201);
    assertLimited(await new Client(t.url).req('POST', '/auth/register', { json: { email: uniqueEmail('b'), password: GOOD_PASSWORD } }), 900);
    assert.equal((await new Client(t.url).req('GET', '/auth/me')).status, 401, 'other endpoints are not limited by it');
  });
});

describe('turning limits off', () => {
  test('GATEHOUSE_RATE_LIMITS=off disables them, the default is on, and the server warns at start', async () => {
    assert.equal(resolveConfig(configInputFromEnv({})).rateLimits.enabled, true);
    const off = resolveConfig(configInputFromEnv({ GATEHOUSE_RATE_LIMITS: 'off' }));
    assert.equal(off.rateLimits.enabled, false);
    assert.ok(checkProductionConfig(off).some((w) => /GATEHOUSE_RATE_LIMITS=off/.test(w)));
    const env = resolveConfig(configInputFromEnv({ GATEHOUSE_RATE_LIMIT_ACCOUNT_ATTEMPTS: '7', GATEHOUSE_RATE_LIMIT_IP_WINDOW: '5m' }));
    assert.equal(env.rateLimits.accountAttempts, 7);
    assert.equal(env.rateLimits.ipWindow, 300_000);
    assert.throws(() => resolveConfig(configInputFromEnv({ GATEHOUSE_RATE_LIMIT_ACCOUNT_ATTEMPTS: '0' })), /GATEHOUSE_RATE_LIMIT_ACCOUNT_ATTEMPTS/);
  });

  test('with limits off, 30 wrong passwords all get 401', async () => {
    const s = await startTestServer({ config: { rateLimits: { enabled: false } } });
    servers.push(s);
    const email = await register(s);
    for (let i = 0; i < 30; i++) assert.equal((await login(s, email, WRONG)).status, 401);
    assert.equal((await login(s, email, GOOD_PASSWORD)).status, 200);
  });
});

describe('when the counters cannot be reached', () => {
  test('an unreachable Redis fails closed: 503 with Retry-After, the password is never checked, and the server lives on', async () => {
    // Port 1 on loopback: nothing listens, so every counter operation fails within the store timeout.
    const s = await startTestServer({ config: { redisUrl: 'redis://127.0.0.1:1', storeTimeout: '200ms', rateLimits: { enabled: true } } as GatehouseConfigInput });
    servers.push(s);
    const r = await login(s, uniqueEmail('down'), GOOD_PASSWORD);
    assert.equal(r.status, 503, r.text);
    assert.equal(r.body.code, 'store_unavailable');
    assert.ok(Number(r.headers.get('retry-after')) >= 1);
    assert.ok(!s.logs.some((l) => l.includes(GOOD_PASSWORD)), 'no password in the logs');
    assert.equal((await new Client(s.url).req('GET', '/auth/me')).status, 401, 'routes without limits still answer');
  });
});

describe('across instances on Redis', async () => {
  const url = await requireRedis();
  test('failures on one instance throttle the account on another', { skip: url ? false : skipReason('Redis', REDIS_URL) }, async () => {
    const prefix = `ghtest:rl:${process.pid}:${randomBytes(4).toString('hex')}:`;
    const stores = createMemoryStores(); // one user base; the limits must travel through Redis
    const cfg = { redisUrl: url!, rateLimits: { enabled: true, accountAttempts: 3, keyPrefix: prefix } } as GatehouseConfigInput;
    const a = await startTestServer({ config: cfg, stores });
    const b = await startTestServer({ config: cfg, stores });
    servers.push(a, b);
    const email = await register(a);
    assert.equal((await login(a, email, WRONG)).status, 401);
    assert.equal((await login(b, email, WRONG)).status, 401);
    assert.equal((await login(a, email, WRONG)).status, 401);
    assertLimited(await login(b, email, GOOD_PASSWORD), 900);
    assertLimited(await login(a, email, GOOD_PASSWORD), 900);
  });

  test('password-reset requests and verification resends are counted across instances too', { skip: url ? false : skipReason('Redis', REDIS_URL) }, async () => {
    const prefix = `ghtest:rl:${process.pid}:${randomBytes(4).toString('hex')}:`;
    const stores = createMemoryStores();
    const cfg = { redisUrl: url!, rateLimits: { enabled: true, keyPrefix: prefix }, lifecycle: { resetPerIp: 2, resendPerAccount: 1 } } as GatehouseConfigInput;
    const a = await startTestServer({ config: cfg, stores });
    const b = await startTestServer({ config: cfg, stores });
    servers.push(a, b);
    const reset = (t: TestServer) => new Client(t.url).req('POST', '/auth/password-reset', { json: { email: uniqueEmail('reset') } });
    assert.equal((await reset(a)).status, 202);
    assert.equal((await reset(b)).status, 202);
    assertLimited(await reset(a), 3600);
    assertLimited(await reset(b), 3600);
    // One resend per account: spent on A, refused on B with the same session.
    const email = await register(a);
    const c = new Client(a.url);
    assert.equal((await c.req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD } })).status, 200);
    assert.equal((await c.req('POST', '/auth/verify-email/resend', { json: {} })).status, 202);
    const onB = new Client(b.url);
    onB.jar = c.jar;
    assert.equal((await onB.req('GET', '/auth/me')).status, 200, 'the session works on B');
    assertLimited(await onB.req('POST', '/auth/verify-email/resend', { json: {} }), 3600);
  });
});
