import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { MIGRATIONS, migrateSqlite, openSqliteStores } from '../../src/stores/sqlite/index.js';
import { makeOneTimeToken, makeRefreshToken, makeSession, makeUser } from '../contract/fixtures.js';

describe('sqlite store files and migrations', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-sqlite-unit-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('creates the database file 0600 inside a new 0700 directory, in WAL mode', async () => {
    const path = join(dir, 'perm', 'nested', 'gatehouse.db');
    const stores = openSqliteStores({ path });
    await stores.ping();
    await stores.close();
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'perm', 'nested')).mode & 0o777, 0o700);
    const db = new Database(path, { readonly: true });
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    db.close();
  });

  it('migrations apply once: a second run and a reopen apply nothing and keep the data', async () => {
    const path = join(dir, 'migrate', 'gatehouse.db');
    const latest = Math.max(...MIGRATIONS.map((m) => m.version));
    assert.deepEqual(migrateSqlite(path), MIGRATIONS.map((m) => m.version));
    assert.deepEqual(migrateSqlite(path), []);
    const user = makeUser();
    const first = openSqliteStores({ path });
    await first.users.createUser(user);
    await first.close();
    const second = openSqliteStores({ path });
    assert.deepEqual(await second.users.getUserById(user.id), user);
    await second.close();
    const db = new Database(path, { readonly: true });
    const rows = db.prepare('SELECT version FROM schema_migrations ORDER BY version').all() as Array<{ version: number }>;
    db.close();
    assert.deepEqual(rows.map((r) => r.version), MIGRATIONS.map((m) => m.version));
    assert.equal(rows.at(-1)?.version, latest);
  });

  it('deleting a user deletes their sessions, session data, refresh tokens and one-time tokens', async () => {
    const stores = openSqliteStores({ path: ':memory:' });
    const user = makeUser();
    const other = makeUser();
    await stores.users.createUser(user);
    await stores.users.createUser(other);
    const s = makeSession({ userId: user.id });
    const keep = makeSession({ userId: other.id });
    await stores.sessions.createSession(s, { maxPerUser: 10 });
    await stores.sessions.createSession(keep, { maxPerUser: 10 });
    await stores.sessions.patchSessionData(s.id, { set: { a: 1 }, unset: [] }, 1024);
    const r = makeRefreshToken({ userId: user.id, sessionId: s.id });
    const o = makeOneTimeToken({ userId: user.id });
    await stores.refreshTokens.createRefreshToken(r);
    await stores.oneTimeTokens.createOneTimeToken(o);

    assert.equal(await stores.users.deleteUser(user.id), true);
    assert.equal(await stores.sessions.getSession(s.id, s.createdAt), null);
    assert.equal(await stores.sessions.getSessionData(s.id), null);
    assert.equal(await stores.refreshTokens.getRefreshToken(r.id), null);
    assert.equal(await stores.oneTimeTokens.getOneTimeToken(o.id), null);
    assert.ok(await stores.sessions.getSession(keep.id, keep.createdAt));
    await stores.close();
  });

  it('sweeps count exactly the expired rows they delete', async () => {
    const stores = openSqliteStores({ path: ':memory:' });
    const user = makeUser();
    await stores.users.createUser(user);
    const t = Date.now();
    await stores.sessions.createSession(makeSession({ userId: user.id, createdAt: t, idleExpiresAt: t + 10 }), { maxPerUser: 10 });
    await stores.sessions.createSession(makeSession({ userId: user.id, createdAt: t }), { maxPerUser: 10 });
    await stores.refreshTokens.createRefreshToken(makeRefreshToken({ userId: user.id, createdAt: t, expiresAt: t + 10 }));
    await stores.oneTimeTokens.createOneTimeToken(makeOneTimeToken({ userId: user.id, createdAt: t, expiresAt: t + 10 }));
    assert.equal(await stores.sessions.deleteExpiredSessions(t + 10), 1);
    assert.equal(await stores.refreshTokens.deleteExpiredRefreshTokens(t + 10), 1);
    assert.equal(await stores.oneTimeTokens.deleteExpiredOneTimeTokens(t + 10), 1);
    assert.equal((await stores.sessions.listSessionsByUser(user.id, t + 10)).length, 1);
    await stores.close();
  });

  it('refuses a session whose user does not exist (foreign keys are on)', async () => {
    const stores = openSqliteStores({ path: ':memory:' });
    await assert.rejects(stores.sessions.createSession(makeSession(), { maxPerUser: 10 }), /FOREIGN KEY/);
    await stores.close();
  });
});
