/**
 * An admin action taken on one instance reaches every instance: two servers on one PostgreSQL schema
 * and one Redis prefix (as behind a load balancer, the revocation feed over Redis). Instance B has
 * validated — and cached — the user's cookie and access token before an administrator on instance A
 * ends the sessions, then disables the user; B refuses them within the feed's latency.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Stores } from '../../src/ports.js';
import { openStores } from '../../src/stores/open.js';
import { bearerStatus, cookieLogin, cookieStatus, register, tokenLogin } from '../support/flows.js';
import { Client, startTestServer, uniqueEmail, type TestServer } from '../support/server.js';
import { deletePrefix, dropSchema, POSTGRES_URL, REDIS_URL, requirePostgres, requireRedis, skipReason, testPrefix, testSchema } from '../support/services.js';

const pg = await requirePostgres();
const redis = await requireRedis();
const skip = pg === null ? skipReason('PostgreSQL', POSTGRES_URL) : redis === null ? skipReason('Redis', REDIS_URL) : undefined;

/** Polls until `check` resolves `want` (the feed delivers over the network), at most 5 s. */
async function eventually(check: () => Promise<number>, want: number): Promise<number> {
  let got = await check();
  for (const end = Date.now() + 5000; got !== want && Date.now() < end; got = await check()) await new Promise((r) => setTimeout(r, 25));
  return got;
}

describe('an admin action seen from another instance', { skip }, () => {
  const schema = testSchema();
  const prefix = testPrefix();
  let storesA: Stores;
  let storesB: Stores;
  let a: TestServer;
  let b: TestServer;
  let admin: Client;

  before(async () => {
    storesA = await openStores({ databaseUrl: pg!, redisUrl: redis!, schema, redisPrefix: prefix, timeoutMs: 5000 });
    storesB = await openStores({ databaseUrl: pg!, redisUrl: redis!, schema, redisPrefix: prefix, timeoutMs: 5000 });
    a = await startTestServer({ stores: storesA });
    b = await startTestServer({ stores: storesB });
    const email = uniqueEmail('admin');
    const id = await register(a, email);
    await a.srv.gatehouse.core.admin.setAdmin(id, true);
    admin = (await cookieLogin(a, email)).client;
  });
  after(async () => {
    await a?.close();
    await b?.close();
    // The servers leave stores they were given open: ours to close.
    await storesA?.close();
    await storesB?.close();
    const { Redis } = await import('ioredis');
    const r = new Redis(redis!);
    await deletePrefix(r as never, prefix);
    r.disconnect();
    await dropSchema(pg!, schema);
  });

  test('ending every session on A stops the cookie and the access token B had cached; disabling on A stops a new sign-in on B', async () => {
    const email = uniqueEmail('target');
    const id = await register(a, email);
    const cookie = await cookieLogin(a, email);
    const token = await tokenLogin(a, email);
    const onB = { client: Object.assign(new Client(b.url), { jar: cookie.client.jar }) };
    assert.equal(await cookieStatus(onB), 200, 'B validates (and caches) the cookie');
    assert.equal(await bearerStatus(b, token), 200, 'B validates (and caches) the access token');

    const r = await admin.req('DELETE', `/admin/api/users/${id}/sessions`, { headers: { origin: 'http://localhost:3000' } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.ended, 2);
    assert.equal(await eventually(() => cookieStatus(onB), 401), 401, 'the cookie fails on B');
    assert.equal(await eventually(() => bearerStatus(b, token), 401), 401, 'the access token fails on B');

    const again = await tokenLogin(b, email);
    assert.equal(await bearerStatus(b, again), 200);
    const d = await admin.req('POST', `/admin/api/users/${id}/disable`, { json: {}, headers: { origin: 'http://localhost:3000' } });
    assert.equal(d.status, 204, d.text);
    assert.equal(await eventually(() => bearerStatus(b, again), 401), 401, 'the session started on B ends on B');
    const refused = await new Client(b.url).req('POST', '/auth/login', { json: { email, password: 'correct horse battery staple' } });
    assert.notEqual(refused.status, 200, 'B refuses a new sign-in');
  });
});
