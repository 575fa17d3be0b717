/**
 * What the MySQL store promises beyond the port contract: `mysql://` and `mariadb://` URLs, a missing
 * database created with the binary collation, InnoDB tables that compare ids and emails byte for byte,
 * migrations applied once under a named lock by instances starting together and resumed statement by
 * statement after an interruption, and expired rows swept in bounded batches. Runs on MariaDB.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import mysql from 'mysql2/promise';
import { openStores } from '../../src/stores/open.js';
import { MIGRATIONS, migrate, migrationSql, MysqlDb, openMysqlStores } from '../../src/stores/mysql/index.js';
import { SWEEP_BATCH } from '../../src/stores/mysql/sweep.js';
import { makeSession, makeUser } from '../contract/fixtures.js';
import { createTestDatabase, dropDatabase, MYSQL_URL, mysqlUrlFor, requireMysql, skipReason, testDatabase } from '../support/services.js';

const url = await requireMysql();

describe('mysql store (MariaDB)', { skip: url === null ? skipReason('MariaDB', MYSQL_URL) : false }, () => {
  let admin: mysql.Connection;
  const dropped: string[] = [];
  before(async () => {
    admin = await mysql.createConnection({ uri: url! });
  });
  after(async () => {
    await admin?.end().catch(() => {});
    for (const d of dropped) await dropDatabase(url!, d);
  });
  const tables = async (database: string) =>
    (await admin.query<mysql.RowDataPacket[]>(
      'SELECT TABLE_NAME AS name, ENGINE AS engine, TABLE_COLLATION AS collation FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY 1',
      [database],
    ))[0];

  it('a mariadb:// URL naming a missing database creates it (utf8mb4, binary collation) with InnoDB tables', async () => {
    const database = testDatabase();
    dropped.push(database);
    const stores = await openStores({ databaseUrl: mysqlUrlFor(url!, database).replace(/^mysql:/, 'mariadb:'), timeoutMs: 5000 });
    try {
      const [[db]] = await admin.query<mysql.RowDataPacket[]>(
        'SELECT DEFAULT_CHARACTER_SET_NAME AS cs, DEFAULT_COLLATION_NAME AS co FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?',
        [database],
      );
      assert.deepEqual({ cs: db?.cs, co: db?.co }, { cs: 'utf8mb4', co: 'utf8mb4_nopad_bin' });
      const t = await tables(database);
      assert.deepEqual(
        t.map((x) => x.name).sort(),
        ['audit_events', 'auth_challenges', 'change_head', 'change_log', 'federated_sessions', 'identities', 'one_time_tokens', 'passkeys', 'proof_marks', 'recovery_codes', 'refresh_tokens', 'schema_migrations', 'session_data', 'sessions', 'signing_keys', 'totp_authenticators', 'users'],
      );
      for (const x of t) assert.deepEqual({ engine: x.engine, collation: x.collation }, { engine: 'InnoDB', collation: 'utf8mb4_nopad_bin' }, x.name);
      await stores.ping();
    } finally {
      await stores.close();
    }
  });

  it('canonical emails and ids compare byte for byte: case, accents and trailing spaces make different users', async () => {
    const { url: dbUrl, database } = await createTestDatabase(url!);
    dropped.push(database);
    const stores = await openMysqlStores({ url: dbUrl });
    try {
      const emails = ['ada@example.test', 'Ada@example.test', 'adá@example.test', 'ada@example.test '];
      for (const e of emails) assert.equal(await stores.users.createUser(makeUser({ email: e, emailCanonical: e })), true, e);
      for (const e of emails) assert.equal((await stores.users.getUserByEmail(e))?.emailCanonical, e);
      const a = makeUser({ id: 'u_case' });
      const b = makeUser({ id: 'U_CASE', emailCanonical: 'upper-case@example.test' });
      assert.equal(await stores.users.createUser(a), true);
      assert.equal(await stores.users.createUser(b), true);
      assert.equal((await stores.users.getUserById('u_case'))?.id, 'u_case');
      assert.equal(await stores.users.getUserById('u_cAse'), null);
      assert.equal(await stores.users.getUserById('u_case '), null, 'no padding: a trailing space is a different id');
    } finally {
      await stores.close();
    }
  });

  it('instances starting together on a fresh database migrate it once, under the named lock', async () => {
    const { url: dbUrl, database } = await createTestDatabase(url!);
    dropped.push(database);
    const all = await Promise.all(Array.from({ length: 5 }, () => openMysqlStores({ url: dbUrl, max: 2 })));
    try {
      const [rows] = await admin.query<mysql.RowDataPacket[]>(`SELECT version, steps_done, applied_at FROM \`${database}\`.schema_migrations ORDER BY version`);
      assert.deepEqual(
        rows.map((r) => ({ version: r.version, steps: r.steps_done, applied: r.applied_at !== null })),
        MIGRATIONS.map((m) => ({ version: m.version, steps: m.statements.length, applied: true })),
      );
      const [[head]] = await admin.query<mysql.RowDataPacket[]>(`SELECT count(*) AS n FROM \`${database}\`.change_head`);
      assert.equal(Number(head?.n), 1, 'seeded once');
      const db = new MysqlDb({ url: dbUrl, timeoutMs: 5000 });
      try {
        assert.deepEqual(await migrate(db), [], 'nothing left to apply');
      } finally {
        await db.close();
      }
    } finally {
      for (const s of all) await s.close();
    }
  });

  it('a migration interrupted part way resumes at the statement after the last one recorded', async () => {
    const { url: dbUrl, database } = await createTestDatabase(url!);
    dropped.push(database);
    // The state a crash after three statements of version 1 leaves (MySQL cannot roll back DDL).
    await admin.query(`USE \`${database}\``);
    await admin.query(`CREATE TABLE schema_migrations (version INT NOT NULL, name VARCHAR(255) NOT NULL, steps_done INT NOT NULL, applied_at BIGINT NULL, PRIMARY KEY (version)) ENGINE=InnoDB`);
    const first = MIGRATIONS[0]!;
    for (const sql of first.statements.slice(0, 3)) await admin.query(migrationSql(sql, 'mariadb'));
    await admin.query('INSERT INTO schema_migrations VALUES (?, ?, 3, NULL)', [first.version, first.name]);
    await admin.query('USE test');
    const stores = await openMysqlStores({ url: dbUrl });
    try {
      const user = makeUser();
      assert.equal(await stores.users.createUser(user), true);
      await stores.sessions.createSession(makeSession({ userId: user.id }), { maxPerUser: 5 });
      assert.equal((await tables(database)).length, 17);
    } finally {
      await stores.close();
    }
  });

  it('ending or evicting many sessions at once (ids deleted in fixed-size chunks) removes exactly those', async () => {
    const { url: dbUrl, database } = await createTestDatabase(url!);
    dropped.push(database);
    const stores = await openMysqlStores({ url: dbUrl });
    try {
      const user = makeUser();
      await stores.users.createUser(user);
      const t = Date.now();
      const made = Array.from({ length: 40 }, (_, i) => makeSession({ userId: user.id, createdAt: t + i }));
      for (const s of made) await stores.sessions.createSession(s, { maxPerUser: 100 });
      const newest = makeSession({ userId: user.id, createdAt: t + 100 });
      const evicted = await stores.sessions.createSession(newest, { maxPerUser: 3 });
      assert.deepEqual(evicted.map((s) => s.id), made.slice(0, 38).map((s) => s.id), 'the 38 oldest, oldest first');
      assert.deepEqual((await stores.sessions.listSessionsByUser(user.id, t)).map((s) => s.id), [made[38]!.id, made[39]!.id, newest.id]);
      for (const s of made.slice(0, 20)) await stores.sessions.createSession({ ...s, createdAt: t + 200 }, { maxPerUser: 100 });
      const ended = await stores.sessions.deleteUserSessions(user.id, newest.id);
      assert.deepEqual(ended.sort(), [...made.slice(0, 20), made[38]!, made[39]!].map((s) => s.id).sort());
      assert.deepEqual((await stores.sessions.listSessionsByUser(user.id, t)).map((s) => s.id), [newest.id]);
    } finally {
      await stores.close();
    }
  });

  it(`the sweep deletes expired rows in statements of at most ${SWEEP_BATCH} and keeps live ones`, async () => {
    const { url: dbUrl, database } = await createTestDatabase(url!);
    dropped.push(database);
    const stores = await openMysqlStores({ url: dbUrl });
    try {
      const user = makeUser();
      await stores.users.createUser(user);
      const t = Date.now();
      const expired = 2 * SWEEP_BATCH + 37;
      // Written directly: 1,037 logins would take a while and test nothing more.
      const values = Array.from({ length: expired + 3 }, (_, i) => {
        const s = makeSession({ userId: user.id, createdAt: t, idleExpiresAt: i < expired ? t + 1000 : t + 100_000 });
        return [s.id, s.userId, Buffer.from(s.secretHash), s.mode, s.createdAt, s.lastSeenAt, s.idleExpiresAt, s.expiresAt, s.authAt, 'pwd', 'aal1', 0];
      });
      await admin.query(
        `INSERT INTO \`${database}\`.sessions (id, user_id, secret_hash, mode, created_at, last_seen_at, idle_expires_at, expires_at, auth_at, amr, acr, credential_version) VALUES ?`,
        [values],
      );
      const statements: string[] = [];
      const spy = Object.create(stores.db) as MysqlDb;
      spy.exec = (sql, params) => (statements.push(sql), stores.db.exec(sql, params));
      const { createMysqlSessionStore } = await import('../../src/stores/mysql/sessions.js');
      assert.equal(await createMysqlSessionStore(spy).deleteExpiredSessions(t + 50_000), expired);
      const deletes = statements.filter((s) => s.startsWith('DELETE'));
      assert.equal(deletes.length, 3, 'three batches');
      for (const d of deletes) assert.match(d, new RegExp(`LIMIT ${SWEEP_BATCH}$`));
      assert.equal((await stores.sessions.listSessionsByUser(user.id, t + 50_000)).length, 3, 'live sessions stay');
    } finally {
      await stores.close();
    }
  });
});
