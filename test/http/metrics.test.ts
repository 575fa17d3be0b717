/**
 * Prometheus metrics of the server: off unless a port or a token is configured, the token is required
 * and checked, counters move by exactly what a scripted sequence of requests does, and no raw path
 * or personal data becomes a label.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { randomBytes } from 'node:crypto';
import { cookieLogin, register, tokenLogin } from '../support/flows.js';
import { assertDelta, delta, parseExposition, type Samples } from '../support/metrics.js';
import { Client, GOOD_PASSWORD, startTestServer, uniqueEmail, type TestServer } from '../support/server.js';
import { createGatehouse } from '../../src/http/express.js';
import { createMemoryStores } from '../../src/stores/memory/index.js';
import { CHEAP_HASHING } from '../support/server.js';

const TOKEN = randomBytes(32).toString('base64url');

async function scrape(t: TestServer): Promise<{ samples: Samples; text: string }> {
  const r = await new Client(t.url).req('GET', '/metrics', { bearer: TOKEN });
  assert.equal(r.status, 200, r.text.slice(0, 200));
  assert.match(r.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return { samples: parseExposition(r.text), text: r.text };
}

describe('metrics are off unless configured', () => {
  test('gatehouse serve without GATEHOUSE_METRICS_PORT or GATEHOUSE_METRICS_TOKEN answers 404 at /metrics', async () => {
    const t = await startTestServer();
    try {
      const r = await new Client(t.url).req('GET', '/metrics');
      assert.equal(r.status, 404);
      assert.equal((await new Client(t.url).req('GET', '/metrics', { bearer: TOKEN })).status, 404);
      assert.equal(t.srv.gatehouse.metrics, null);
      assert.equal(t.srv.metricsServer, null);
    } finally {
      await t.close();
    }
  });

  test('library use: createGatehouse() has no metrics unless asked, and with `metrics: true` exposes a registry', async () => {
    const off = await createGatehouse({ stores: createMemoryStores(), config: { databaseUrl: 'memory:', passwordHashing: CHEAP_HASHING } });
    try {
      assert.equal(off.metrics, null);
    } finally {
      await off.close();
    }
    const on = await createGatehouse({ stores: createMemoryStores(), config: { databaseUrl: 'memory:', passwordHashing: CHEAP_HASHING }, metrics: true });
    try {
      assert.ok(on.metrics);
      const text = await on.metrics.registry.metrics();
      assert.match(text, /^# TYPE gatehouse_logins_total counter$/m);
    } finally {
      await on.close();
    }
  });

  test('a metrics token shorter than 32 characters is refused at start, naming the setting but not the value', async () => {
    await assert.rejects(startTestServer({ config: { metrics: { token: 'short-token-123' } } }), (e: Error) => /metrics\.token|GATEHOUSE_METRICS_TOKEN/.test(e.message) && !e.message.includes('short-token-123'));
  });
});

describe('metrics behind GATEHOUSE_METRICS_TOKEN', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({
      config: {
        metrics: { token: TOKEN },
        rateLimits: { enabled: true, accountAttempts: 3, accountWindow: '15m', accountBlock: '15m', ipFailures: 100, ipRequests: 1000 },
        token: { refreshGrace: '10s' },
      },
    });
  });
  after(() => t.close());

  test('no token, a wrong token, or another scheme: 401', async () => {
    const c = new Client(t.url);
    for (const headers of [{} as Record<string, string>, { authorization: `Bearer ${TOKEN}x` }, { authorization: `Bearer ${TOKEN.slice(1)}` }, { authorization: `Basic ${TOKEN}` }]) {
      const r = await c.req('GET', '/metrics', { headers });
      assert.equal(r.status, 401, JSON.stringify(headers));
      assert.equal(r.body.code, 'unauthenticated');
      assert.doesNotMatch(r.text, /gatehouse_/);
    }
  });

  test('a scripted sequence moves each counter by exactly what it did', async () => {
    const s0 = (await scrape(t)).samples;
    const alice = uniqueEmail('metrics');
    await register(t, alice);
    const cookie = await cookieLogin(t, alice);
    const wrong = await new Client(t.url).req('POST', '/auth/login', { json: { email: alice, password: 'not the password at all' } });
    assert.equal(wrong.status, 401);
    const tok = await tokenLogin(t, alice);
    // Two uses of one access token: the first verifies it, the second is decided by the cache.
    assert.equal((await new Client(t.url).req('GET', '/auth/me', { bearer: tok.access })).status, 200);
    assert.equal((await new Client(t.url).req('GET', '/auth/me', { bearer: tok.access })).status, 200);
    const rotated = await new Client(t.url).req('POST', '/auth/refresh', { json: { refresh_token: tok.refresh } });
    assert.equal(rotated.status, 200);
    t.clock.advance(10_001);
    const reused = await new Client(t.url).req('POST', '/auth/refresh', { json: { refresh_token: tok.refresh } });
    assert.equal(reused.status, 400, 'reuse of a spent refresh token');
    assert.equal((await cookie.client.req('POST', '/auth/logout')).status, 204);
    // Three wrong passwords spend another account's attempts; the fourth try is throttled.
    const bob = uniqueEmail('metrics-bob');
    await register(t, bob);
    for (let i = 0; i < 3; i++) assert.equal((await new Client(t.url).req('POST', '/auth/login', { json: { email: bob, password: `wrong password ${i}!` } })).status, 401);
    const blocked = await new Client(t.url).req('POST', '/auth/login', { json: { email: bob, password: GOOD_PASSWORD } });
    assert.equal(blocked.status, 429);

    const s1 = (await scrape(t)).samples;
    const L = 'gatehouse_logins_total';
    assertDelta(s0, s1, 'gatehouse_registrations_total', { method: 'password' }, 2);
    assertDelta(s0, s1, L, { result: 'success', method: 'password' }, 2);
    assertDelta(s0, s1, L, { result: 'invalid_credentials', method: 'password' }, 4);
    assertDelta(s0, s1, L, { result: 'throttled', method: 'password' }, 1);
    assertDelta(s0, s1, L, { result: 'mfa_required', method: 'password' }, 0);
    assertDelta(s0, s1, 'gatehouse_refreshes_total', { result: 'rotated' }, 1);
    assertDelta(s0, s1, 'gatehouse_refreshes_total', { result: 'reuse_detected' }, 1);
    assertDelta(s0, s1, 'gatehouse_revoked_sessions_total', { cause: 'refresh_reuse' }, 1);
    assertDelta(s0, s1, 'gatehouse_revoked_sessions_total', { cause: 'logout' }, 1);
    assertDelta(s0, s1, 'gatehouse_rate_limit_blocks_total', { route: '/auth/login' }, 1);
    assertDelta(s0, s1, 'gatehouse_auth_cache_lookups_total', { transport: 'bearer', result: 'miss' }, 1);
    assertDelta(s0, s1, 'gatehouse_auth_cache_lookups_total', { transport: 'bearer', result: 'hit' }, 1);
    // Request durations by route template: 7 logins (2 ok, 1 wrong, 3 wrong, 1 throttled) → per status.
    const H = 'gatehouse_http_request_duration_seconds_count';
    assertDelta(s0, s1, H, { route: '/auth/login', method: 'POST', status: '200' }, 2);
    assertDelta(s0, s1, H, { route: '/auth/login', method: 'POST', status: '401' }, 4);
    assertDelta(s0, s1, H, { route: '/auth/login', method: 'POST', status: '429' }, 1);
    assertDelta(s0, s1, H, { route: '/auth/refresh', method: 'POST', status: '200' }, 1);
    assertDelta(s0, s1, H, { route: '/auth/me', method: 'GET', status: '200' }, 2);
    assert.equal(s1.get('gatehouse_revocation_feed_trusted'), 1);
    assert.equal(s1.get('gatehouse_mail_queue_depth'), 0);
    // The stores were injected (memory): their calls are timed under one label.
    assert.ok(delta(s0, s1, 'gatehouse_store_operation_duration_seconds_count', { store: 'custom', operation: 'users.createUser' }) === 2);
  });

  test('labels are bounded: raw paths, emails and ids never appear, unknown routes are "unmatched"', async () => {
    const email = uniqueEmail('label-probe');
    await register(t, email);
    const s = await cookieLogin(t, email);
    const probes = Array.from({ length: 5 }, () => `/x-${randomBytes(6).toString('hex')}`);
    for (const p of probes) assert.equal((await new Client(t.url).req('GET', p)).status, 404);
    const sessionPath = `/auth/sessions/${randomBytes(8).toString('base64url')}`;
    await s.client.req('DELETE', sessionPath);
    const { text, samples } = await scrape(t);
    for (const p of probes) assert.ok(!text.includes(p.slice(1)), `raw path ${p} in the metrics`);
    assert.ok(!text.includes(sessionPath), 'a raw path with an id');
    assert.ok(!text.includes(email) && !text.includes(email.split('@')[0]!), 'an email in the metrics');
    assert.ok(!text.includes(s.id), 'a session id in the metrics');
    assert.ok((samples.get('gatehouse_http_request_duration_seconds_count{route="unmatched",method="GET",status="404"}') ?? 0) >= 5);
    assert.ok(samples.has('gatehouse_http_request_duration_seconds_count{route="/auth/sessions/:id",method="DELETE",status="404"}'), text.split('\n').filter((l) => l.includes('sessions')).join('\n'));
  });
});

describe('metrics on a port of their own (GATEHOUSE_METRICS_PORT)', () => {
  test('served without a token on the loopback metrics port, absent from the main port', async () => {
    const t = await startTestServer({ config: { metrics: { port: 0 } } });
    try {
      const port = t.srv.metricsServer?.port();
      assert.ok(port, 'the metrics port is listening');
      const r = await fetch(`http://127.0.0.1:${port}/metrics`);
      assert.equal(r.status, 200);
      assert.match(await r.text(), /^# TYPE gatehouse_http_request_duration_seconds histogram$/m);
      assert.equal((await fetch(`http://127.0.0.1:${port}/`)).status, 404);
      assert.equal((await new Client(t.url).req('GET', '/metrics')).status, 404, 'not on the main port');
    } finally {
      await t.close();
    }
    assert.equal(t.srv.metricsServer?.port(), null);
  });
});
