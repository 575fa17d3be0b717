import type { OneTimeTokenRecord, OneTimeTokenStore } from '../../ports.js';
import type { Db, Row } from './db.js';
import { deleteInBatches } from './sweep.js';

const COLS = 'id, user_id, purpose, secret_hash, binding, created_at, expires_at, used_at';

function toToken(r: Row): OneTimeTokenRecord {
  return {
    id: r.id as string,
    userId: r.user_id as string,
    purpose: r.purpose as OneTimeTokenRecord['purpose'],
    secretHash: new Uint8Array(r.secret_hash as Buffer),
    binding: r.binding as string,
    createdAt: r.created_at as number,
    expiresAt: r.expires_at as number,
    usedAt: (r.used_at as number | null) ?? null,
  };
}

export function createMysqlOneTimeStore(db: Db): OneTimeTokenStore {
  return {
    async createOneTimeToken(t) {
      await db.exec(`INSERT INTO one_time_tokens (${COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, [
        t.id, t.userId, t.purpose, Buffer.from(t.secretHash), t.binding, t.createdAt, t.expiresAt, t.usedAt,
      ]);
    },
    async getOneTimeToken(id) {
      const r = await db.exec(`SELECT ${COLS} FROM one_time_tokens WHERE id = ?`, [id]);
      return r.rows[0] ? toToken(r.rows[0]) : null;
    },
    async consumeOneTimeToken(id, now) {
      // One conditional UPDATE: concurrent callers queue on the row lock, and each re-reads the row
      // as committed before matching, so only the first matches.
      const r = await db.exec(`UPDATE one_time_tokens SET used_at = ? WHERE id = ? AND used_at IS NULL AND expires_at > ?`, [now, id, now]);
      return r.affected === 1;
    },
    async deleteOneTimeTokensByUser(userId, purpose) {
      const r = purpose === undefined
        ? await db.exec(`DELETE FROM one_time_tokens WHERE user_id = ?`, [userId])
        : await db.exec(`DELETE FROM one_time_tokens WHERE user_id = ? AND purpose = ?`, [userId, purpose]);
      return r.affected;
    },
    async deleteExpiredOneTimeTokens(now) {
      return deleteInBatches(db, 'one_time_tokens', 'expires_at', now);
    },
  };
}
