import type { Db } from './db.js';

/** Rows deleted per statement: small enough that one batch holds its locks and undo for milliseconds. */
export const SWEEP_BATCH = 500;

const TABLES = new Set(['sessions', 'refresh_tokens', 'one_time_tokens', 'auth_challenges', 'proof_marks', 'federated_sessions', 'audit_events', 'change_log']);
const COLUMNS = new Set(['expiry', 'expires_at', 'at']);

/**
 * Deletes rows whose `column` is at or before `upTo` (`< upTo` with `strict`), in batches of
 * SWEEP_BATCH along that column's index, each its own statement (and transaction), until a batch comes
 * back short. A large backlog (a sweep after a long outage) therefore never becomes one long
 * transaction that locks half a table and fills the undo log; other writers interleave between batches.
 * Resolves how many rows were deleted.
 */
export async function deleteInBatches(db: Db, table: string, column: string, upTo: number, strict = false): Promise<number> {
  if (!TABLES.has(table) || !COLUMNS.has(column)) throw new TypeError(`no sweep of ${table}.${column}`);
  const sql = `DELETE FROM ${table} WHERE ${column} ${strict ? '<' : '<='} ? ORDER BY ${column} LIMIT ${SWEEP_BATCH}`;
  let total = 0;
  for (;;) {
    const r = await db.exec(sql, [upTo]);
    total += r.affected;
    if (r.affected < SWEEP_BATCH) return total;
  }
}
