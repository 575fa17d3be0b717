import { performance } from 'node:perf_hooks';
import type { Db } from './db.js';

/** Rows deleted per statement: one batch holds its row locks and writes its WAL for milliseconds. */
export const SWEEP_BATCH = 1000;

/** What may be swept, by table: the expression of its expiry (an indexed expression in every case). */
const EXPIRY: Record<string, string> = {
  sessions: 'LEAST(idle_expires_at, expires_at)',
  refresh_tokens: 'expires_at',
  one_time_tokens: 'expires_at',
  auth_challenges: 'expires_at',
  proof_marks: 'expires_at',
  federated_sessions: 'expires_at',
  audit_events: 'at',
};

/**
 * Deletes rows of `table` whose expiry is at or before `upTo` (`< upTo` with `strict`), in batches of
 * SWEEP_BATCH picked along the expiry index, each its own statement (and transaction), until a batch
 * comes back short. A large backlog (a million sessions expiring the same night, a sweep after a long
 * outage) is then many short transactions that logins and logouts interleave with, not one that locks
 * a million rows, and it reaches the WAL and replicas in steps. Between batches it pauses as long as
 * the batch took, so a long sweep leaves the database (often on the same few cores as the application)
 * at least half its time for requests. Resolves how many rows were deleted.
 */
export async function deleteInBatches(db: Db, table: string, upTo: number, strict = false): Promise<number> {
  const expiry = EXPIRY[table];
  if (expiry === undefined) throw new TypeError(`no sweep of ${table}`);
  const sql = `DELETE FROM ${table} WHERE ctid = ANY(ARRAY(SELECT ctid FROM ${table} WHERE ${expiry} ${strict ? '<' : '<='} $1 LIMIT ${SWEEP_BATCH}))`;
  let total = 0;
  for (;;) {
    const started = performance.now();
    const n = (await db.query(sql, [upTo])).rowCount;
    total += n;
    if (n < SWEEP_BATCH) return total;
    await new Promise<void>((resolve) => setTimeout(resolve, Math.ceil(performance.now() - started)));
  }
}
