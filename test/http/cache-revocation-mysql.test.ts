/**
 * Revocation across instances on MySQL without Redis: two servers on one MariaDB database, each with
 * its own pool and its own poller of `change_log` at the default interval (250 ms). A cookie session
 * or access token that instance B has validated and cached stops working on B soon after it is
 * revoked on instance A: within the poll interval plus one query (the README's staleness bound),
 * checked here against a bound with room for a busy machine, and the delay measured is reported.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { openMysqlStores } from '../../src/stores/mysql/index.js';
import { Client, GOOD_PASSWORD, startTestServer, uniqueEmail, type TestServer } from '../support/server.js';
import { createTestDatabase, dropDatabase, MYSQL_URL, requireMysql, skipReason } from '../support/services.js';

const BOUND_MS = 2000;

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

const url = await requireMysql();

describe('caches across instances on MySQL (MariaDB)', { skip: url === null ? skipReason('MariaDB', MYSQL_URL) : false }, () => {
  let database: string;
  let a: TestServer;
  let b: TestServer;
  before(async () => {
    const created = await createTestDatabase(url!);
    database = created.database;
    a = await startTestServer({ stores: await openMysqlStores({ url: created.url }) });
    b = await startTestServer({ stores: await openMysqlStores({ url: created.url }) });
  });
  after(async () => {
    await a?.close();
    await b?.close();
    await a?.stores.close();
    await b?.stores.close();
    await dropDatabase(url!, database);
  });

  async function register(): Promise<string> {
    const email = uniqueEmail('cache');
    const r = await new Client(a.url).req('POST', '/auth/register', { json: { email, password: GOOD_PASSWORD } });
    assert.equal(r.status, 201, r.text);
    return email;
  }

  test('a cookie session cached on one instance fails there once it is revoked on another', async (t) => {
    const email = await register();
    const onA = new Client(a.url);
    assert.equal((await onA.req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD } })).status, 200);
    const cookie = [...onA.jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const onB = () => new Client(b.url).req('GET', '/auth/me', { headers: { cookie } }).then((r) => r.status);

    const cachedBefore = b.srv.gatehouse.core.diagnostics().cachedSessions;
    assert.equal(await onB(), 200, 'B accepts the session');
    assert.equal(b.srv.gatehouse.core.diagnostics().cachedSessions, cachedBefore + 1, 'B now holds the session in its cache');

    assert.equal((await onA.req('POST', '/auth/logout')).status, 204);
    const ms = await msUntilStatus(onB, 401);
    t.diagnostic(`B refused the revoked session after ${Math.round(ms)} ms`);
    assert.ok(ms < BOUND_MS, `B refused the revoked session after ${Math.round(ms)} ms (bound ${BOUND_MS} ms)`);
  });

  test('an access token cached on one instance fails there once its session is revoked on another', async (t) => {
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
    t.diagnostic(`B refused the revoked token after ${Math.round(ms)} ms`);
    assert.ok(ms < BOUND_MS, `B refused the revoked token after ${Math.round(ms)} ms (bound ${BOUND_MS} ms)`);
  });
});
