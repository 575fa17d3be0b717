import type Database from 'better-sqlite3';
import type { ProofMarkStore } from '../../ports.js';
import { openDatabase } from './db.js';

/**
 * Proof marks in the SQLite file, so every process on it (server, workers) sees the same proof ids,
 * nonces and challenges. They live seconds to minutes and are worth nothing after a crash, so they
 * are written through a second connection with `synchronous = NORMAL`: in WAL mode a commit then
 * costs no fsync (durability of these rows is not needed; the file stays consistent), while the
 * main connection keeps FULL for logins and revocations. An in-memory database has one connection.
 */
export function createSqliteProofStore(main: Database.Database, path: string): { store: ProofMarkStore; close(): void } {
  const inMemory = path === ':memory:' || path === '';
  const db = inMemory ? main : openDatabase(path);
  if (!inMemory) db.pragma('synchronous = NORMAL');
  // Replace an expired mark, keep a live one: exactly one of concurrent writers changes a row.
  const put = db.prepare(
    `INSERT INTO proof_marks (kind, value, expires_at) VALUES (@kind, @value, @exp)
     ON CONFLICT (kind, value) DO UPDATE SET expires_at = excluded.expires_at WHERE proof_marks.expires_at <= @now`,
  );
  const has = db.prepare<{ kind: string; value: string; now: number }, { n: number }>(
    'SELECT 1 AS n FROM proof_marks WHERE kind = @kind AND value = @value AND expires_at > @now',
  );
  const take = db.prepare('DELETE FROM proof_marks WHERE kind = @kind AND value = @value AND expires_at > @now');
  const sweep = db.prepare('DELETE FROM proof_marks WHERE expires_at <= ?');
  return {
    store: {
      async putProofMark(kind, value, exp, now) {
        return put.run({ kind, value, exp, now }).changes === 1;
      },
      async hasProofMark(kind, value, now) {
        return has.get({ kind, value, now }) !== undefined;
      },
      async takeProofMark(kind, value, now) {
        return take.run({ kind, value, now }).changes === 1;
      },
      async deleteExpiredProofMarks(now) {
        return sweep.run(now).changes;
      },
    },
    close() {
      if (!inMemory) db.close();
    },
  };
}
