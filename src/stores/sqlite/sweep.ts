import type Database from 'better-sqlite3';

/**
 * Rows deleted per statement. better-sqlite3 runs on the event loop, so one statement is time no
 * request is served: a batch of this size deletes in about a millisecond (a session row and its four
 * index entries), where one statement over a million expired rows held the loop for seconds.
 */
export const SWEEP_BATCH = 256;

const TABLES = new Set(['sessions', 'refresh_tokens', 'one_time_tokens', 'auth_challenges', 'federated_sessions', 'audit_events']);
const COLUMNS = new Set(['idle_expires_at', 'expires_at', 'at']);

/** Lets queued I/O (requests) run before the next batch. */
const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * A sweep of `table` for rows whose `column` is at or before the bound (`<` with `strict`): batches of
 * SWEEP_BATCH along the column's index, each its own statement (and transaction), yielding to the event
 * loop between them, until a batch comes back short. Resolves how many rows were deleted.
 */
export function batchedDelete(db: Database.Database, table: string, column: string, strict = false): (upTo: number) => Promise<number> {
  if (!TABLES.has(table) || !COLUMNS.has(column)) throw new TypeError(`no sweep of ${table}.${column}`);
  const stmt = db.prepare<[number]>(
    `DELETE FROM ${table} WHERE rowid IN (SELECT rowid FROM ${table} WHERE ${column} ${strict ? '<' : '<='} ? LIMIT ${SWEEP_BATCH})`,
  );
  return async (upTo) => {
    let total = 0;
    for (;;) {
      const n = stmt.run(upTo).changes;
      total += n;
      if (n < SWEEP_BATCH) return total;
      await yieldToLoop();
    }
  };
}
