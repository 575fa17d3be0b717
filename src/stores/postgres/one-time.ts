import type { OneTimeTokenRecord, OneTimeTokenStore } from '../../ports.js';
import type { Db } from './db.js';
import { deleteInBatches } from './sweep.js';

/** A one_time_tokens row as pg returns it. */
type TokenRow = {
  id: string;
  user_id: string;
  purpose: OneTimeTokenRecord['purpose'];
  secret_hash: Buffer;
  binding: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
};

const COLS = 'id, user_id, purpose, secret_hash, binding, created_at, expires_at, used_at';

function toToken(r: TokenRow): OneTimeTokenRecord {
  return { id: r.id, userId: r.user_id, purpose: r.purpose, secretHash: r.secret_hash, binding: r.binding, createdAt: r.created_at, expiresAt: r.expires_at, usedAt: r.used_at };
}

export function createPostgresOneTimeStore(db: Db): OneTimeTokenStore {
  return {
    async createOneTimeToken(t) {
      const h = Buffer.from(t.secretHash.buffer, t.secretHash.byteOffset, t.secretHash.byteLength);
      await db.query(`INSERT INTO one_time_tokens (${COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, [
        t.id, t.userId, t.purpose, h, t.binding, t.createdAt, t.expiresAt, t.usedAt,
      ]);
    },
    async getOneTimeToken(id) {
      const r = await db.query<TokenRow>(`SELECT ${COLS} FROM one_time_tokens WHERE id = $1`, [id]);
      return r.rows[0] ? toToken(r.rows[0]) : null;
    },
    async consumeOneTimeToken(id, now) {
      // One conditional UPDATE: concurrent callers serialise on the row and only the first matches.
      const r = await db.query(
        `UPDATE one_time_tokens SET used_at = $2 WHERE id = $1 AND used_at IS NULL AND expires_at > $2`,
        [id, now],
      );
      return r.rowCount === 1;
    },
    async deleteOneTimeTokensByUser(userId, purpose) {
      const r = await db.query(
        `DELETE FROM one_time_tokens WHERE user_id = $1 AND ($2::text IS NULL OR purpose = $2)`,
        [userId, purpose ?? null],
      );
      return r.rowCount;
    },
    async deleteExpiredOneTimeTokens(now) {
      return deleteInBatches(db, 'one_time_tokens', now);
    },
  };
}
