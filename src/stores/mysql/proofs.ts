import type { ProofMarkStore } from '../../ports.js';
import type { Db } from './db.js';
import { deleteInBatches } from './sweep.js';

const ER_DUP_ENTRY = 1062;

/**
 * Proof marks (DPoP proof ids and nonces, DBSC challenges): single conditional statements on the
 * (kind, value) key, so concurrent callers queue on the row and exactly one wins.
 */
export function createMysqlProofStore(db: Db): ProofMarkStore {
  return {
    async putProofMark(kind, value, expiresAt, now) {
      try {
        // Of concurrent inserts of one key, the first holds the new row's lock until it commits and
        // the others then fail as duplicates.
        await db.exec(`INSERT INTO proof_marks (kind, value, expires_at) VALUES (?, ?, ?)`, [kind, value, expiresAt]);
        return true;
      } catch (e) {
        if ((e as { errno?: unknown } | null)?.errno !== ER_DUP_ENTRY) throw e;
      }
      // Present: an expired mark is renewed as if it were not there (once: the row lock decides); a
      // live one wins. An upsert cannot tell these apart here, as CLIENT_FOUND_ROWS counts an
      // unchanged row.
      const r = await db.exec(`UPDATE proof_marks SET expires_at = ? WHERE kind = ? AND value = ? AND expires_at <= ?`, [expiresAt, kind, value, now]);
      return r.affected === 1;
    },
    async hasProofMark(kind, value, now) {
      const r = await db.exec(`SELECT 1 AS one FROM proof_marks WHERE kind = ? AND value = ? AND expires_at > ?`, [kind, value, now]);
      return r.rows.length === 1;
    },
    async takeProofMark(kind, value, now) {
      return (await db.exec(`DELETE FROM proof_marks WHERE kind = ? AND value = ? AND expires_at > ?`, [kind, value, now])).affected === 1;
    },
    async deleteExpiredProofMarks(now) {
      return deleteInBatches(db, 'proof_marks', 'expires_at', now);
    },
  };
}
