import type { ProofMarkStore } from '../../ports.js';
import type { Db } from './db.js';
import { deleteInBatches } from './sweep.js';

/** Proof marks in an UNLOGGED table: single statements, so concurrent callers serialise on the row. */
export function createPostgresProofStore(db: Db): ProofMarkStore {
  return {
    async putProofMark(kind, value, expiresAt, now) {
      // A live mark wins (no row changes); an expired one is replaced as if it were not there.
      const r = await db.query(
        `INSERT INTO proof_marks (kind, value, expires_at) VALUES ($1, $2, $3)
         ON CONFLICT (kind, value) DO UPDATE SET expires_at = EXCLUDED.expires_at WHERE proof_marks.expires_at <= $4`,
        [kind, value, expiresAt, now],
      );
      return r.rowCount === 1;
    },
    async hasProofMark(kind, value, now) {
      const r = await db.query(`SELECT 1 FROM proof_marks WHERE kind = $1 AND value = $2 AND expires_at > $3`, [kind, value, now]);
      return r.rows.length === 1;
    },
    async takeProofMark(kind, value, now) {
      const r = await db.query(`DELETE FROM proof_marks WHERE kind = $1 AND value = $2 AND expires_at > $3`, [kind, value, now]);
      return r.rowCount === 1;
    },
    async deleteExpiredProofMarks(now) {
      return deleteInBatches(db, 'proof_marks', now);
    },
  };
}
