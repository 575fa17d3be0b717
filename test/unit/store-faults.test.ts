/**
 * PostgreSQL outages: a store whose database goes away fails fast with StoreUnavailableError (never a
 * hang, never a raw driver error) and serves again once the service is back, with the same store
 * object. The change feed reports the drop and the return, and replay covers the gap.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import type { ChangeEvent } from '../../src/ports.js';
import { openPostgresStores } from '../../src/stores/postgres/index.js';
import { createPostgresFeed } from '../../src/stores/postgres/feed.js';
import { makeUser, rid } from '../contract/fixtures.js';
import { freePort } from '../support/redis-cluster.js';
import { dropSchema, POSTGRES_URL, requirePostgres, skipReason, testSchema } from '../support/services.js';
import { eventually, rejectsUnavailable, watch } from './store-faults.support.js';

const pgUrl = await requirePostgres();

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

  it('the LISTEN connection dropping reports status(false), then status(true), and replay covers the gap', { timeout: 60_000 }, async () => {
    const feed = await createPostgresFeed({ url: pgUrl!, schema, applicationName: `${app}_f`, reconnectDelayMs: 300 });
    const other = await createPostgresFeed({ url: pgUrl!, schema, applicationName: `${app}_g` });
    try {
      assert.equal(feed.connected, true);
      const w = watch(feed);
      const since = Date.now();
      const missed: ChangeEvent = { type: 'sessions.revoked', ids: [rid()], at: since };
      // Another instance revokes while this one is deaf.
      const published = new Promise<void>((resolve, reject) => w.onDownOnce(() => other.publish(missed).then(resolve, reject)));
      await terminate(`${app}_f:listen`);
      assert.equal(await w.nth(1), false);
      await published;
      assert.equal(await w.nth(2), true);
      assert.deepEqual(w.statuses, [false, true]);
      assert.equal(feed.connected, true);
      const replayed = await feed.replay(since);
      assert.ok(replayed.some((e) => JSON.stringify(e) === JSON.stringify(missed)), 'replay returns the missed revocation');
      w.stop();
    } finally {
      await feed.close();
      await other.close();
    }
  });

  it(
    'live delivery resumes on the re-opened LISTEN connection',
    { timeout: 60_000 },
    async () => {
      const feed = await createPostgresFeed({ url: pgUrl!, schema, applicationName: `${app}_h`, reconnectDelayMs: 300 });
      const other = await createPostgresFeed({ url: pgUrl!, schema, applicationName: `${app}_i` });
      try {
        // Kill exactly this feed's LISTEN backend, by pid, once it is up.
        await eventually('the LISTEN connection', async () => assert.ok(feed.connected && feed.listenerPid !== null, 'not connected'));
        const first = feed.listenerPid!;
        const w = watch(feed);
        const killed = await admin.query<{ ok: boolean }>(
          `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE pid = $1 AND application_name = $2`,
          [first, `${app}_h:listen`],
        );
        assert.deepEqual(killed.rows.map((r) => r.ok), [true], 'the LISTEN backend was terminated');
        assert.equal(await w.nth(1), false);
        assert.equal(await w.nth(2), true);
        const second = feed.listenerPid;
        assert.ok(second !== null && second !== first, `re-opened on a new backend (${first} → ${second})`);
        const live: ChangeEvent = { type: 'keys.changed', at: Date.now() };
        await other.publish(live);
        await eventually(
          'live delivery',
          async () =>
            assert.ok(
              w.events.some((e) => e.at === live.at && e.type === 'keys.changed'),
              `not delivered; statuses ${JSON.stringify(w.statuses)}, listener ${first} → ${second} → ${feed.listenerPid}`,
            ),
          10_000,
        );
        w.stop();
      } finally {
        await feed.close();
        await other.close();
      }
    },
  );

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
      assert.equal(typeof (await stores.users.setPasswordHash(user.id, 'y')), 'number');
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

});
