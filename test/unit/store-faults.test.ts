/**
 * Outages: a store whose backing service goes away fails fast with StoreUnavailableError (never a
 * hang, never a raw driver error) and serves again once the service is back, with the same store
 * object. The change feed reports the drop and the return, and replay covers the gap.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { StoreUnavailableError } from '../../src/errors.js';
import type { ChangeEvent, ChangeFeed } from '../../src/ports.js';
import { openPostgresStores } from '../../src/stores/postgres/index.js';
import { createPgFeed } from '../../src/stores/postgres/feed.js';
import { openRedisStores, type RedisStores } from '../../src/stores/redis/index.js';
import { makeSession, makeUser, rid } from '../contract/fixtures.js';
import { freePort, startRedisServer, type RedisServer } from '../support/redis-cluster.js';
import { dropSchema, POSTGRES_URL, requirePostgres, requireRedis, REDIS_URL, skipReason, testPrefix, testSchema } from '../support/services.js';

const pgUrl = await requirePostgres();
// Fault tests start a redis-server of their own; the shared one only tells us Redis is installed here.
const redisUrl = await requireRedis();

/** Resolves how long `p` took to reject, asserting it rejected with StoreUnavailableError. */
async function rejectsUnavailable(p: Promise<unknown>): Promise<number> {
  const t0 = Date.now();
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof StoreUnavailableError, `expected StoreUnavailableError, got ${String(e)}`);
    assert.equal(e.code, 'store_unavailable');
    assert.ok((e.retryAfter ?? 0) > 0, 'carries Retry-After');
    return true;
  });
  return Date.now() - t0;
}

async function eventually<T>(what: string, f: () => Promise<T>, timeoutMs = 10_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await f();
    } catch (e) {
      if (Date.now() > until) throw new Error(`${what} did not recover within ${timeoutMs} ms`, { cause: e });
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Records status changes and events; `next(s)` waits for status s. */
function watch(feed: ChangeFeed) {
  const statuses: boolean[] = [];
  const events: ChangeEvent[] = [];
  const waiters: { s: boolean; r: () => void }[] = [];
  let onDown: (() => void) | null = null;
  const stop = feed.subscribe({
    event: (e) => events.push(e),
    status: (s) => {
      statuses.push(s);
      if (!s && onDown) onDown();
      for (const w of waiters.splice(0)) (w.s === s ? w.r() : waiters.push(w));
    },
  });
  const next = (s: boolean, ms = 10_000) =>
    new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no status(${s}) within ${ms} ms`)), ms);
      waiters.push({ s, r: () => (clearTimeout(t), resolve()) });
    });
  return { statuses, events, next, stop, onDownOnce: (f: () => void) => (onDown = () => ((onDown = null), f())) };
}

describe('postgres faults', { skip: pgUrl === null ? skipReason('PostgreSQL', POSTGRES_URL) : false }, () => {
  const schema = testSchema();
  const app = `gh_fault_${rid()}`.replace(/[^a-zA-Z0-9_]/g, '_');
  let admin: pg.Client;
  before(async () => {
    admin = new pg.Client({ connectionString: pgUrl! });
    await admin.connect();
  });
  after(async () => {
    await admin.end();
    await dropSchema(pgUrl!, schema);
  });
  const terminate = (appName: string) =>
    admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`, [appName]);

  it('killed pool connections fail the running operation fast, and the same store serves again', async () => {
    const stores = await openPostgresStores({ url: pgUrl!, schema, statementTimeoutMs: 1000, applicationName: app });
    try {
      const user = makeUser();
      await stores.users.createUser(user);
      // Hold the user's row so the store's update waits inside the database, then kill our backends.
      await admin.query('BEGIN');
      await admin.query(`SELECT 1 FROM "${schema}".users WHERE id = $1 FOR UPDATE`, [user.id]);
      const pending = stores.users.setPasswordHash(user.id, 'x');
      const outcome = rejectsUnavailable(pending);
      await new Promise((r) => setTimeout(r, 100));
      const t0 = Date.now();
      await terminate(app);
      await outcome;
      const ms = Date.now() - t0;
      await admin.query('ROLLBACK');
      assert.ok(ms < 1000, `rejected ${ms} ms after the kill`);
      // Every other pooled connection was killed too; the pool replaces them on demand.
      assert.equal((await eventually('postgres', () => stores.users.getUserById(user.id)))?.id, user.id);
      assert.equal(await stores.users.setPasswordHash(user.id, 'y'), true);
      await stores.ping();
    } finally {
      await admin.query('ROLLBACK').catch(() => {});
      await stores.close();
    }
  });

  it('a statement stuck behind a lock fails with StoreUnavailableError at the statement timeout', async () => {
    const stores = await openPostgresStores({ url: pgUrl!, schema, statementTimeoutMs: 400, applicationName: app });
    try {
      const user = makeUser();
      await stores.users.createUser(user);
      await admin.query('BEGIN');
      await admin.query(`SELECT 1 FROM "${schema}".users WHERE id = $1 FOR UPDATE`, [user.id]);
      const ms = await rejectsUnavailable(stores.users.setDisabled(user.id, Date.now()));
      assert.ok(ms >= 300 && ms < 1500, `rejected after ${ms} ms`);
      await admin.query('ROLLBACK');
      assert.equal(await stores.users.setDisabled(user.id, null), true);
    } finally {
      await admin.query('ROLLBACK').catch(() => {});
      await stores.close();
    }
  });

  it('an unreachable database fails opening with StoreUnavailableError within the connect timeout', async () => {
    const port = await freePort();
    const ms = await rejectsUnavailable(openPostgresStores({ url: `postgres://postgres@127.0.0.1:${port}/test`, schema, statementTimeoutMs: 500 }));
    assert.ok(ms < 2000, `rejected after ${ms} ms`);
  });

  it('the LISTEN connection dropping reports status(false), then status(true), and replay covers the gap', async () => {
    const feed = await createPgFeed({ url: pgUrl!, schema, applicationName: app, reconnectDelayMs: 300 });
    const other = await createPgFeed({ url: pgUrl!, schema, applicationName: `${app}_b` });
    try {
      assert.equal(feed.connected, true);
      const w = watch(feed);
      const since = Date.now();
      const missed: ChangeEvent = { type: 'sessions.revoked', ids: [rid()], at: since };
      // Another instance revokes while this one is deaf.
      const published = new Promise<void>((resolve, reject) => w.onDownOnce(() => other.publish(missed).then(resolve, reject)));
      const down = w.next(false);
      await terminate(`${app}:listen`);
      await down;
      assert.equal(feed.connected, false);
      await published;
      await w.next(true);
      assert.deepEqual(w.statuses, [false, true]);
      assert.equal(feed.connected, true);
      assert.ok(!w.events.some((e) => JSON.stringify(e) === JSON.stringify(missed)), 'the event was published during the outage');
      const replayed = await feed.replay(since);
      assert.ok(replayed.some((e) => JSON.stringify(e) === JSON.stringify(missed)), 'replay returns the missed revocation');
      // And live delivery works again.
      const live: ChangeEvent = { type: 'keys.changed', at: Date.now() };
      await other.publish(live);
      await eventually('live delivery', async () => assert.ok(w.events.some((e) => e.at === live.at && e.type === 'keys.changed')), 3000);
      w.stop();
    } finally {
      await feed.close();
      await other.close();
    }
  });
});

describe('redis faults', { skip: redisUrl === null ? skipReason('Redis', REDIS_URL) : false }, () => {
  let server: RedisServer;
  before(async () => {
    server = await startRedisServer();
  });
  after(async () => {
    await server?.stop();
  });

  it('a killed Redis fails operations fast with StoreUnavailableError, and the same store serves after restart', async () => {
    const stores: RedisStores = await openRedisStores({ url: server.url, prefix: testPrefix(), commandTimeoutMs: 500 });
    try {
      const s = makeSession();
      await stores.sessions.createSession(s, { maxPerUser: 5 });
      assert.ok(await stores.sessions.getSession(s.id, Date.now()));
      await server.kill();
      const ms = await rejectsUnavailable(stores.sessions.getSession(s.id, Date.now()));
      assert.ok(ms < 1500, `rejected after ${ms} ms`);
      // While it stays down every call keeps failing fast rather than queueing forever.
      const ms2 = await rejectsUnavailable(stores.sessions.createSession(makeSession(), { maxPerUser: 5 }));
      assert.ok(ms2 < 1500, `rejected after ${ms2} ms`);
      await rejectsUnavailable(stores.ping());
      await server.restart();
      // The restarted server is empty (no persistence); the store object reconnects by itself.
      await eventually('redis', () => stores.ping());
      const s2 = makeSession();
      await stores.sessions.createSession(s2, { maxPerUser: 5 });
      assert.equal((await stores.sessions.getSession(s2.id, Date.now()))?.id, s2.id);
    } finally {
      await stores.close();
    }
  });

  it('the subscriber connection dropping reports status(false), then status(true), and replay covers the gap', async () => {
    const prefix = testPrefix();
    const a = await openRedisStores({ url: server.url, prefix, commandTimeoutMs: 1000 });
    const b = await openRedisStores({ url: server.url, prefix, commandTimeoutMs: 1000 });
    try {
      await eventually('feed', async () => assert.equal(a.feed.connected, true), 3000);
      const w = watch(a.feed);
      const since = Date.now();
      const missed: ChangeEvent = { type: 'sessions.revoked', ids: [rid()], at: since };
      const published = new Promise<void>((resolve, reject) => w.onDownOnce(() => b.feed.publish(missed).then(resolve, reject)));
      const down = w.next(false);
      // Drop only the subscriber connections: Redis stays up, so the other instance can publish.
      await a.redis.client('KILL', 'TYPE', 'pubsub');
      await down;
      await published;
      await w.next(true);
      assert.deepEqual(w.statuses, [false, true]);
      assert.equal(a.feed.connected, true);
      const replayed = await a.feed.replay(since);
      assert.ok(replayed.some((e) => JSON.stringify(e) === JSON.stringify(missed)), 'replay returns the missed revocation');
      const live: ChangeEvent = { type: 'keys.changed', at: Date.now() };
      await b.feed.publish(live);
      await eventually('live delivery', async () => assert.ok(w.events.some((e) => e.at === live.at)), 3000);
      w.stop();
    } finally {
      await a.close();
      await b.close();
    }
  });
});
