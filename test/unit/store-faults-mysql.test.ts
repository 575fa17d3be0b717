/**
 * MariaDB outages: a store whose database goes away — its connections killed, a statement stuck behind
 * a lock, the network cut or silent, the server stopped — fails within the store timeout with
 * StoreUnavailableError (never a hang, never a raw driver error), and the same store object serves
 * again once the database is back. The polled change feed reports the drop and the return, and what
 * was published meanwhile is delivered and replayable. Over HTTP an outage is a 503 with Retry-After.
 *
 * The shared server is only used through databases of our own; the tests that stop a server start
 * their own `mariadbd` (test/support/mariadb-server.ts).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import mysql from 'mysql2/promise';
import type { ChangeEvent } from '../../src/ports.js';
import { openMysqlStores } from '../../src/stores/mysql/index.js';
import { createMysqlFeed } from '../../src/stores/mysql/feed.js';
import { MysqlDb } from '../../src/stores/mysql/index.js';
import { makeSession, makeUser, rid } from '../contract/fixtures.js';
import { mariadbdAvailable, MARIADBD, startMariadbServer, type MariadbServer } from '../support/mariadb-server.js';
import { freePort } from '../support/redis-cluster.js';
import { Client, GOOD_PASSWORD, startTestServer, uniqueEmail } from '../support/server.js';
import { createTestDatabase, dropDatabase, MYSQL_URL, mysqlUrlFor, requireMysql, skipReason } from '../support/services.js';
import { startTcpProxy } from '../support/tcp-proxy.js';
import { eventually, rejectsUnavailable, watch } from './store-faults.support.js';

const url = await requireMysql();

describe('mysql faults (MariaDB)', { skip: url === null ? skipReason('MariaDB', MYSQL_URL) : false }, () => {
  let database: string;
  let dbUrl: string;
  let admin: mysql.Connection;
  before(async () => {
    ({ url: dbUrl, database } = await createTestDatabase(url!));
    admin = await mysql.createConnection({ uri: url! });
  });
  after(async () => {
    await admin?.end().catch(() => {});
    await dropDatabase(url!, database);
  });

  /** Kills every connection working in our database (the store's), by id, and resolves how many. */
  const killStoreConnections = async (): Promise<number> => {
    const [rows] = await admin.query<mysql.RowDataPacket[]>(
      'SELECT ID AS id FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID()',
      [database],
    );
    for (const r of rows) await admin.query(`KILL CONNECTION ${Number(r.id)}`).catch(() => {});
    return rows.length;
  };

  it('KILL CONNECTION fails the running operation fast, and the same store serves again', async () => {
    const stores = await openMysqlStores({ url: dbUrl, timeoutMs: 1000 });
    try {
      const user = makeUser();
      await stores.users.createUser(user);
      // Hold the user's row so the store's update waits inside the database, then kill our connections.
      await admin.query('START TRANSACTION');
      await admin.query(`SELECT id FROM \`${database}\`.users WHERE id = ? FOR UPDATE`, [user.id]);
      const outcome = rejectsUnavailable(stores.users.setPasswordHash(user.id, 'x'));
      await new Promise((r) => setTimeout(r, 100));
      const t0 = Date.now();
      assert.ok((await killStoreConnections()) >= 1, 'the store had connections to kill');
      await outcome;
      const ms = Date.now() - t0;
      await admin.query('ROLLBACK');
      assert.ok(ms < 1000, `rejected ${ms} ms after the kill`);
      // Every pooled connection was killed too; the pool replaces them on demand.
      assert.equal((await eventually('mysql', () => stores.users.getUserById(user.id)))?.id, user.id);
      assert.equal(await stores.users.setPasswordHash(user.id, 'y'), 1);
      await stores.ping();
    } finally {
      await admin.query('ROLLBACK').catch(() => {});
      await stores.close();
    }
  });

  it('a statement stuck behind a row lock fails with StoreUnavailableError at the store timeout', async () => {
    const stores = await openMysqlStores({ url: dbUrl, timeoutMs: 400 });
    try {
      const user = makeUser();
      await stores.users.createUser(user);
      await admin.query('START TRANSACTION');
      await admin.query(`SELECT id FROM \`${database}\`.users WHERE id = ? FOR UPDATE`, [user.id]);
      const ms = await rejectsUnavailable(stores.users.setDisabled(user.id, Date.now()));
      assert.ok(ms >= 300 && ms < 1400, `rejected after ${ms} ms`);
      // A session of the same user cannot start either (it queues on the user's row) — and fails as fast.
      const ms2 = await rejectsUnavailable(stores.sessions.createSession(makeSession({ userId: user.id }), { maxPerUser: 5 }));
      assert.ok(ms2 < 1400, `createSession rejected after ${ms2} ms`);
      await admin.query('ROLLBACK');
      assert.equal(await stores.users.setDisabled(user.id, null), true);
      assert.deepEqual(await stores.sessions.listSessionsByUser(user.id, Date.now()), [], 'the failed start left no session');
    } finally {
      await admin.query('ROLLBACK').catch(() => {});
      await stores.close();
    }
  });

  it('an unreachable server fails opening with StoreUnavailableError within the connect timeout', async () => {
    const port = await freePort();
    const ms = await rejectsUnavailable(openMysqlStores({ url: `mysql://root@127.0.0.1:${port}/test`, timeoutMs: 500 }));
    assert.ok(ms < 2000, `rejected after ${ms} ms`);
  });

  it('a server that stops answering fails operations within the timeout plus one second; the store recovers when the network heals', async () => {
    const target = new URL(dbUrl);
    const proxy = await startTcpProxy(target.hostname, Number(target.port || 3306));
    const viaProxy = new URL(dbUrl);
    viaProxy.port = String(proxy.port);
    const stores = await openMysqlStores({ url: viaProxy.toString(), timeoutMs: 500 });
    try {
      const user = makeUser();
      await stores.users.createUser(user);
      proxy.blackhole();
      const ms = await rejectsUnavailable(stores.users.getUserById(user.id));
      assert.ok(ms >= 400 && ms < 2500, `rejected after ${ms} ms`);
      // A cut link (connection reset) fails at once rather than at the deadline.
      proxy.cut();
      const ms2 = await rejectsUnavailable(stores.users.getUserById(user.id));
      assert.ok(ms2 < 1000, `rejected after ${ms2} ms`);
      proxy.heal();
      assert.equal((await eventually('mysql through the healed link', () => stores.users.getUserById(user.id)))?.id, user.id);
    } finally {
      await stores.close();
      await proxy.close();
    }
  });

  it('a feed cut off from the database reports status(false), then status(true), and delivers and replays what was published meanwhile', async () => {
    const target = new URL(dbUrl);
    const proxy = await startTcpProxy(target.hostname, Number(target.port || 3306));
    const viaProxy = new URL(dbUrl);
    viaProxy.port = String(proxy.port);
    const a = await openMysqlStores({ url: viaProxy.toString(), timeoutMs: 500, feedPollMs: 50 });
    const b = await openMysqlStores({ url: dbUrl, timeoutMs: 2000 });
    try {
      assert.equal(a.feed.connected, true);
      const w = watch(a.feed);
      const since = Date.now();
      const missed: ChangeEvent = { type: 'sessions.revoked', ids: [rid()], at: since };
      // Another instance revokes while this one cannot reach the database.
      const published = new Promise<void>((resolve, reject) => w.onDownOnce(() => b.feed.publish(missed).then(resolve, reject)));
      proxy.cut();
      assert.equal(await w.nth(1), false);
      assert.equal(a.feed.connected, false);
      await published;
      proxy.heal();
      assert.equal(await w.nth(2), true);
      assert.deepEqual(w.statuses, [false, true]);
      await eventually('the missed event, by polling', async () => assert.ok(w.events.some((e) => JSON.stringify(e) === JSON.stringify(missed))));
      const replayed = await a.feed.replay(since);
      assert.ok(replayed.some((e) => JSON.stringify(e) === JSON.stringify(missed)), 'replay returns the missed revocation');
      const live: ChangeEvent = { type: 'keys.changed', at: Date.now() };
      await b.feed.publish(live);
      await eventually('live delivery', async () => assert.ok(w.events.some((e) => e.type === 'keys.changed' && e.at === live.at)), 3000);
      w.stop();
    } finally {
      await a.close();
      await b.close();
      await proxy.close();
    }
  });

  it('a poller never skips an event: 200 publishes from four instances in parallel reach a fifth, each once, in publish order per instance', async () => {
    const publishers = await Promise.all(Array.from({ length: 4 }, () => new MysqlDb({ url: dbUrl, timeoutMs: 5000, max: 4 })));
    const feeds = await Promise.all(publishers.map((db) => createMysqlFeed({ db })));
    const reader = await openMysqlStores({ url: dbUrl, timeoutMs: 5000, feedPollMs: 10 });
    try {
      const w = watch(reader.feed);
      const mine = rid();
      await Promise.all(
        feeds.map(async (f, n) => {
          for (let i = 0; i < 50; i++) await f.publish({ type: 'user.changed', userId: `${mine}:${n}:${i}`, at: Date.now() });
        }),
      );
      const seen = () => w.events.filter((e) => e.type === 'user.changed' && e.userId.startsWith(mine)).map((e) => (e as { userId: string }).userId);
      await eventually('all 200 events', async () => assert.equal(seen().length, 200), 10_000);
      assert.equal(new Set(seen()).size, 200, 'each event once');
      for (let n = 0; n < 4; n++) {
        const order = seen().filter((id) => id.startsWith(`${mine}:${n}:`)).map((id) => Number(id.split(':').pop()));
        assert.deepEqual(order, Array.from({ length: 50 }, (_, i) => i), `instance ${n}'s events in order`);
      }
      w.stop();
    } finally {
      await reader.close();
      for (const f of feeds) await f.close();
      for (const db of publishers) await db.close();
    }
  });
});

const serverSkip = url === null ? skipReason('MariaDB', MYSQL_URL) : !mariadbdAvailable() ? `${MARIADBD} is not installed` : false;
if (serverSkip !== false && !(url === null) && process.env.CI === 'true') throw new Error(`${MARIADBD} is required under CI=true (apt-get install -y mariadb-server)`);

describe('mysql faults: a stopped server (a mariadbd of our own)', { skip: serverSkip }, () => {
  let server: MariadbServer;
  before(async () => {
    server = await startMariadbServer();
  });
  after(async () => {
    await server?.stop();
  });

  it('a stopped server fails operations fast, the feed reports the outage, and the same store serves after restart', async () => {
    const stores = await openMysqlStores({ url: mysqlUrlFor(server.url, 'gh_stop_store'), timeoutMs: 1000, feedPollMs: 50 });
    try {
      const w = watch(stores.feed);
      const user = makeUser();
      await stores.users.createUser(user);
      await server.kill();
      const ms = await rejectsUnavailable(stores.users.getUserById(user.id));
      assert.ok(ms < 2000, `rejected after ${ms} ms`);
      // While it stays down every call keeps failing fast rather than queueing.
      const ms2 = await rejectsUnavailable(stores.sessions.createSession(makeSession({ userId: user.id }), { maxPerUser: 5 }));
      assert.ok(ms2 < 2000, `rejected after ${ms2} ms`);
      await rejectsUnavailable(stores.ping());
      assert.equal(await w.nth(1), false);
      await server.restart();
      assert.equal(await w.nth(2), true);
      // The data survived the crash (InnoDB recovery); the store object reconnected by itself.
      assert.equal((await eventually('mysql after restart', () => stores.users.getUserById(user.id)))?.id, user.id);
      const s = makeSession({ userId: user.id });
      await stores.sessions.createSession(s, { maxPerUser: 5 });
      assert.equal((await stores.sessions.getSession(s.id, Date.now()))?.id, s.id);
      w.stop();
    } finally {
      await stores.close();
    }
  });

  it('over HTTP: with the server stopped, requests get 503 + Retry-After within the store timeout, and the same server serves again once it is back', async () => {
    const storeTimeout = 1000;
    const stores = await openMysqlStores({ url: mysqlUrlFor(server.url, 'gh_stop_http'), timeoutMs: storeTimeout, feedPollMs: 50 });
    const t = await startTestServer({ stores, config: { storeTimeout } });
    try {
      const email = uniqueEmail('outage');
      const c = new Client(t.url);
      assert.equal((await c.req('POST', '/auth/register', { json: { email, password: GOOD_PASSWORD } })).status, 201);
      assert.equal((await c.req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD } })).status, 200);
      assert.equal((await c.req('GET', '/auth/me')).status, 200);

      await server.shutdown();
      const t0 = Date.now();
      const login = await new Client(t.url).req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD } });
      const ms = Date.now() - t0;
      assert.equal(login.status, 503, login.text);
      assert.equal(login.headers.get('content-type'), 'application/problem+json');
      assert.equal(login.body.code, 'store_unavailable');
      assert.ok(Number(login.headers.get('retry-after')) >= 1, 'Retry-After');
      assert.ok(ms <= storeTimeout + 1000, `answered after ${ms} ms`);
      assert.doesNotMatch(login.text, /ECONNREFUSED|mysql|stack/i, 'no internals in the body');
      // Once the feed has noticed, a cookie session is confirmed in the store (fail closed): 503, not a stale 200.
      await eventually('the feed to notice', async () => assert.equal(stores.feed.connected, false));
      const me = await c.req('GET', '/auth/me');
      assert.equal(me.status, 503, me.text);
      assert.ok(Number(me.headers.get('retry-after')) >= 1);

      await server.restart();
      await eventually('the same cookie to work again', async () => assert.equal((await c.req('GET', '/auth/me')).status, 200), 20_000);
      assert.equal((await new Client(t.url).req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD } })).status, 200);
    } finally {
      await t.close();
      await stores.close();
    }
  });
});
