import type { OneTimeTokenRecord, OneTimeTokenStore } from '../../ports.js';
import type { Db, Row } from './db.js';

const COLS = 'id, user_id, purpose, secret_hash, binding, created_at, expires_at, used_at';

function toToken(r: Row): OneTimeTokenRecord {
  return {
    id: r.id as string,
    userId: r.user_id as string,
    purpose: r.purpose as OneTimeTokenRecord['purpose'],
    secretHash: r.secret_hash as Buffer,
    binding: r.binding as string,
    createdAt: r.created_at as number,
    expiresAt: r.expires_at as number,
    usedAt: (r.used_at as number | null) ?? null,
  };
}

export function pgOneTimeTokenStore(db: Db): OneTimeTokenStore {
  return {
    async createOneTimeToken(t) {
      const h = Buffer.from(t.secretHash.buffer, t.secretHash.byteOffset, t.secretHash.byteLength);
      await db.query(`INSERT INTO one_time_tokens (${COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, [
        t.id, t.userId, t.purpose, h, t.binding, t.createdAt, t.expiresAt, t.usedAt,
      ]);
    },
    async getOneTimeToken(id) {
      const r = await db.query(`SELECT ${COLS} FROM one_time_tokens WHERE id = $1`, [id]);
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
      return (await db.query(`DELETE FROM one_time_tokens WHERE expires_at <= $1`, [now])).rowCount;
    },
  };
}
