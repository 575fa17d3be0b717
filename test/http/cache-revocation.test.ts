/**
 * Cached credentials and revocation across instances: two servers share one SQLite file (and its
 * change feed, polled every 50 ms). A cookie session or access token that instance B has validated
 * and cached stops working on B soon after it is revoked on instance A — within the feed's bound,
 * not at the cache entry's own expiry.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openSqliteStores } from '../../src/stores/sqlite/index.js';
import { Client, GOOD_PASSWORD, startTestServer, uniqueEmail, type TestServer } from '../support/server.js';

/** Poll interval of each instance's feed, and the bound a revocation must arrive within. */
const FEED_POLL_MS = 50;
const BOUND_MS = 1000;

/** Polls `probe` until it answers `status`; returns the time taken, or fails after 5 × the bound. */
async function msUntilStatus(probe: () => Promise<number>, status: number): Promise<number> {
  const started = performance.now();
  const giveUp = started + 5 * BOUND_MS;
  for (;;) {
    const got = await probe();
    if (got === status) return performance.now() - started;
    assert.equal(got, 200, 'before it fails the credential still works');
    assert.ok(performance.now() < giveUp, `still ${got} after ${5 * BOUND_MS} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('caches across instances', () => {
  let dir: string;
  let a: TestServer;
  let b: TestServer;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gh-cache-'));
    const path = join(dir, 'shared.db');
    a = await startTestServer({ stores: openSqliteStores({ path, feedPollMs: FEED_POLL_MS }) });
    b = await startTestServer({ stores: openSqliteStores({ path, feedPollMs: FEED_POLL_MS }) });
  });
  after(async () => {
    await a?.close();
    await b?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function register(): Promise<string> {
    const email = uniqueEmail('cache');
    const r = await new Client(a.url).req('POST', '/auth/register', { json: { email, password: GOOD_PASSWORD } });
    assert.equal(r.status, 201, r.text);
    return email;
  }

  test('a cookie session cached on one instance fails there within the feed bound once it is revoked on another', async () => {
    const email = await register();
    const onA = new Client(a.url);
    assert.equal((await onA.req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD } })).status, 200);
    const cookie = [...onA.jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const onB = () => new Client(b.url).req('GET', '/auth/me', { headers: { cookie } }).then((r) => r.status);

    const cachedBefore = b.srv.gatehouse.core.diagnostics().cachedSessions;
    assert.equal(await onB(), 200, 'B accepts the session');
    assert.equal(b.srv.gatehouse.core.diagnostics().cachedSessions, cachedBefore + 1, 'B now holds the session in its cache');
    assert.equal(await onB(), 200, 'and answers from it');

    assert.equal((await onA.req('POST', '/auth/logout')).status, 204);
    const ms = await msUntilStatus(onB, 401);
    assert.ok(ms < BOUND_MS, `B refused the revoked session after ${Math.round(ms)} ms (bound ${BOUND_MS} ms)`);
  });

  test('an access token cached on one instance fails there within the feed bound once its session is revoked on another', async () => {
    const email = await register();
    const login = await new Client(a.url).req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD, mode: 'token' } });
    assert.equal(login.status, 200, login.text);
    const token = login.body.access_token as string;
    const onB = () => new Client(b.url).req('GET', '/auth/me', { bearer: token }).then((r) => r.status);

    const cachedBefore = b.srv.gatehouse.core.diagnostics().cachedTokens;
    assert.equal(await onB(), 200, 'B accepts the token');
    assert.equal(b.srv.gatehouse.core.diagnostics().cachedTokens, cachedBefore + 1, 'B now holds the verified token in its cache');

    assert.equal((await new Client(a.url).req('POST', '/auth/logout', { bearer: token })).status, 204);
    const ms = await msUntilStatus(onB, 401);
    assert.ok(ms < BOUND_MS, `B refused the revoked token after ${Math.round(ms)} ms (bound ${BOUND_MS} ms)`);
  });
});
