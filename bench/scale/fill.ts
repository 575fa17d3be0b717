/**
 * Fills a store with the scale bench's population (fixture.ts) in bulk: SQLite in one transaction of
 * prepared statements (the store's own row format, sessionParams), PostgreSQL in multi-row
 * `unnest` inserts of 5,000 rows, Redis through the store's own session script, thousands of calls in
 * flight on one connection (so they go out pipelined). Users, live sessions, sessions past their
 * expiry (for the sweep) and 100k revocations in the change feed are filled separately, each to a
 * target count, so one store grows 10k → 100k → 1M without refilling.
 */
import pg from 'pg';
import type { ChangeEvent } from '../../src/ports.js';
import { openDatabase } from '../../src/stores/sqlite/db.js';
import { applyMigrations } from '../../src/stores/sqlite/migrations.js';
import { SESSION_COLUMNS, sessionParams } from '../../src/stores/sqlite/session-rows.js';
import { createSqliteUserStore } from '../../src/stores/sqlite/users.js';
import { openPostgresStores } from '../../src/stores/postgres/index.js';
import { openRedisStores } from '../../src/stores/redis/index.js';
import { revokedId, session, user, type Population, type RowKind } from './fixture.js';

export type StoreKind = 'sqlite' | 'postgres' | 'redis';

/** Where one store of a run lives. Redis keeps sessions and the feed; its users are in `sqlitePath`. */
export interface Target {
  kind: StoreKind;
  sqlitePath: string;
  postgres?: { url: string; schema: string };
  redis?: { url: string; prefix: string };
}

export interface Filler {
  /** Users [from, to). */
  users(from: number, to: number): Promise<void>;
  /** Sessions [from, to) of a kind. */
  sessions(kind: RowKind, from: number, to: number): Promise<void>;
  /** Replaces the feed's log with `count` recent revocations (one event per revoked session, as a logout publishes). */
  revocations(count: number, at: number): Promise<void>;
  close(): Promise<void>;
}

const revocation = (p: Population, i: number, at: number): ChangeEvent => ({ type: 'sessions.revoked', ids: [revokedId(p, i)], at: at - (i % 600_000) });

function sqliteFiller(path: string, p: Population, withSessions: boolean): Filler {
  const db = openDatabase(path);
  applyMigrations(db);
  const users = createSqliteUserStore(db);
  const insert = db.prepare(`INSERT INTO sessions (${SESSION_COLUMNS}) VALUES (${SESSION_COLUMNS.split(',').map(() => '?').join(', ')})`);
  const feedInsert = db.prepare('INSERT INTO change_log (at, event) VALUES (?, ?)');
  const inTx = async (work: () => Promise<unknown> | void) => {
    db.exec('BEGIN');
    try {
      await work();
      db.exec('COMMIT');
    } catch (e) {
      db.exec('ROLLBACK');
      throw e;
    }
    // Into the main file, as SQLite's automatic checkpoints leave a database that grew over time: a
    // fill of a million rows in one transaction would otherwise leave a WAL of hundreds of megabytes
    // that the next open has to index, which is the fixture's cost, not the server's.
    db.pragma('wal_checkpoint(TRUNCATE)');
  };
  return {
    async users(from, to) {
      // The store's own createUser: its statement runs at the call, inside this one transaction.
      await inTx(async () => {
        const pending: Promise<boolean>[] = [];
        for (let u = from; u < to; u++) pending.push(users.createUser(user(p, u)));
        await Promise.all(pending);
      });
    },
    async sessions(kind, from, to) {
      if (!withSessions) throw new Error('sessions of this target are not in SQLite');
      await inTx(() => {
        for (let i = from; i < to; i++) insert.run(...sessionParams(session(p, kind, i)));
      });
    },
    async revocations(count, at) {
      if (!withSessions) throw new Error('the feed of this target is not in SQLite');
      await inTx(() => {
        db.exec('DELETE FROM change_log');
        for (let i = 0; i < count; i++) {
          const e = revocation(p, i, at);
          feedInsert.run(e.at, JSON.stringify(e));
        }
      });
    },
    async close() {
      db.close();
    },
  };
}

async function postgresFiller(url: string, schema: string, p: Population): Promise<Filler> {
  // The store's own migrations create the schema.
  const stores = await openPostgresStores({ url, schema });
  await stores.close();
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await c.query(`SET search_path TO "${schema}"`);
  const BATCH = 5000;
  const bulk = async (from: number, to: number, sql: string, columns: (i: number) => unknown[]) => {
    for (let start = from; start < to; start += BATCH) {
      const end = Math.min(to, start + BATCH);
      const cols: unknown[][] = [];
      for (let i = start; i < end; i++) {
        const row = columns(i);
        row.forEach((v, j) => (cols[j] ??= []).push(v));
      }
      await c.query(sql, cols);
    }
  };
  return {
    async users(from, to) {
      await bulk(
        from,
        to,
        `INSERT INTO users (id, email, email_canonical, password_hash, created_at, disabled_at, email_verified_at, credential_version)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[], $8::int[])`,
        (u) => {
          const r = user(p, u);
          return [r.id, r.email, r.emailCanonical, r.passwordHash, r.createdAt, r.disabledAt, r.emailVerifiedAt, r.credentialVersion];
        },
      );
    },
    async sessions(kind, from, to) {
      // The row is the SQLite store's parameter list (same columns, same order); amr goes as its space-separated text.
      await bulk(
        from,
        to,
        `INSERT INTO sessions (id, user_id, secret_hash, mode, created_at, last_seen_at, idle_expires_at, expires_at, auth_at, amr, acr,
                               credential_version, ip, device_browser, device_os, device_type, binding_kind, binding_jkt, binding_key)
         SELECT id, user_id, secret_hash, mode, created_at, last_seen_at, idle_expires_at, expires_at, auth_at, string_to_array(amr, ' '), acr,
                credential_version, ip, device_browser, device_os, device_type, binding_kind, binding_jkt, binding_key
         FROM unnest($1::text[], $2::text[], $3::bytea[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[],
                     $10::text[], $11::text[], $12::int[], $13::text[], $14::text[], $15::text[], $16::text[], $17::text[], $18::text[], $19::text[])
           AS t(id, user_id, secret_hash, mode, created_at, last_seen_at, idle_expires_at, expires_at, auth_at, amr, acr,
                credential_version, ip, device_browser, device_os, device_type, binding_kind, binding_jkt, binding_key)`,
        (i) => sessionParams(session(p, kind, i)),
      );
    },
    async revocations(count, at) {
      await c.query('DELETE FROM change_log');
      await bulk(0, count, 'INSERT INTO change_log (at, event) SELECT * FROM unnest($1::bigint[], $2::text[])', (i) => {
        const e = revocation(p, i, at);
        return [e.at, JSON.stringify(e)];
      });
    },
    async close() {
      await c.end();
    },
  };
}

async function redisFiller(t: Target, p: Population): Promise<Filler> {
  const users = sqliteFiller(t.sqlitePath, p, false);
  const stores = await openRedisStores({ url: t.redis!.url, prefix: t.redis!.prefix });
  const IN_FLIGHT = 4000;
  const flights = async (from: number, to: number, call: (i: number) => Promise<unknown>) => {
    for (let start = from; start < to; start += IN_FLIGHT) {
      const pending: Promise<unknown>[] = [];
      for (let i = start; i < Math.min(to, start + IN_FLIGHT); i++) pending.push(call(i));
      await Promise.all(pending);
    }
  };
  return {
    users: (from, to) => users.users(from, to),
    async sessions(kind, from, to) {
      // The store's own creation script: the user's hash, its field, the hash's expiry.
      await flights(from, to, (i) => stores.sessions.createSession(session(p, kind, i), { maxPerUser: 1000 }));
    },
    async revocations(count, at) {
      await stores.redis.del(`${t.redis!.prefix}feed`);
      // Publish in event-time order: the log is trimmed by the newest event's time.
      await flights(0, count, (i) => stores.feed.publish(revocation(p, count - 1 - i, at)));
    },
    async close() {
      await stores.close();
      await users.close();
    },
  };
}

export async function openFiller(t: Target, p: Population): Promise<Filler> {
  if (t.kind === 'sqlite') return sqliteFiller(t.sqlitePath, p, true);
  if (t.kind === 'postgres') return postgresFiller(t.postgres!.url, t.postgres!.schema, p);
  return redisFiller(t, p);
}
