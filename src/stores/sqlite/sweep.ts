import type Database from 'better-sqlite3';
import { performance } from 'node:perf_hooks';

/**
 * Rows deleted per statement. better-sqlite3 runs on the event loop, so a statement is time no request
 * is served: deleting a session touches its row, four index entries and the tables that reference it
 * (about 45 µs a row on a busy 2-core machine), so a batch of 64 holds the loop for a few
 * milliseconds, where one statement over a million expired rows held it for most of a minute.
 */
export const SWEEP_BATCH = 64;

const TABLES = new Set(['sessions', 'refresh_tokens', 'one_time_tokens', 'auth_challenges', 'federated_sessions', 'audit_events']);
const COLUMNS = new Set(['idle_expires_at', 'expires_at', 'at']);

/** Waits as long as the batch took (at least a timer tick), so a long sweep keeps the loop at most half busy. */
const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.ceil(ms)));

/**
 * A sweep of `table` for rows whose `column` is at or before the bound (`<` with `strict`): batches of
 * SWEEP_BATCH along the column's index, each its own statement (and transaction), with a pause as long
 * as the batch between them in which requests run, until a batch comes back short. A backlog of a
 * million rows then takes a couple of minutes in the background instead of stalling every request
 * for its whole length. Resolves how many rows were deleted.
 */
export function batchedDelete(db: Database.Database, table: string, column: string, strict = false): (upTo: number) => Promise<number> {
  if (!TABLES.has(table) || !COLUMNS.has(column)) throw new TypeError(`no sweep of ${table}.${column}`);
  const stmt = db.prepare<[number]>(
    `DELETE FROM ${table} WHERE rowid IN (SELECT rowid FROM ${table} WHERE ${column} ${strict ? '<' : '<='} ? LIMIT ${SWEEP_BATCH})`,
  );
  return async (upTo) => {
    let total = 0;
    for (;;) {
      const started = performance.now();
      const n = stmt.run(upTo).changes;
      total += n;
      if (n < SWEEP_BATCH) return total;
      await pause(performance.now() - started);
    }
  };
}
