import type { RefreshTokenRecord, RefreshTokenStore } from '../../ports.js';
import { REFRESH_COLUMNS, refreshParams, toRefreshToken, type BytesCodec, type RefreshRow } from '../sql/refresh-row.js';
import type { Db, Row } from './db.js';
import { deleteInBatches } from './sweep.js';

const COLS = REFRESH_COLUMNS;
const BYTES: BytesCodec = { out: (u) => Buffer.from(u), in: (b) => new Uint8Array(b) };
const toToken = (r: Row): RefreshTokenRecord => toRefreshToken(r as RefreshRow, BYTES);

const bytes = (u: Uint8Array | null) => (u ? Buffer.from(u) : null);

const INSERT = `INSERT INTO refresh_tokens (${COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`;
const insertParams = (t: RefreshTokenRecord) => refreshParams(t, BYTES);

export function createMysqlRefreshStore(db: Db): RefreshTokenStore {
  return {
    async createRefreshToken(t) {
      await db.exec(INSERT, insertParams(t));
    },
    async getRefreshToken(id) {
      const r = await db.exec(`SELECT ${COLS} FROM refresh_tokens WHERE id = ?`, [id]);
      return r.rows[0] ? toToken(r.rows[0]) : null;
    },
    async rotateRefreshToken(id, successor, now, graceMs, successorSalt) {
      return db.tx(async (q) => {
        // The conditional UPDATE is the decision: of concurrent rotations, the first takes the row
        // lock and spends the token; the others wait, re-read the committed row (an UPDATE always
        // reads the latest version), match nothing, and only one successor is ever inserted.
        const spent = await q.exec(
          `UPDATE refresh_tokens SET spent_at = ?, successor_id = ?, successor_salt = ?
            WHERE id = ? AND spent_at IS NULL AND expires_at > ?`,
          [now, successor.id, bytes(successorSalt ?? null), id, now],
        );
        if (spent.affected === 1) await q.exec(INSERT, insertParams(successor));
        // Read under the lock the UPDATE took (or wait for the rotation that holds it): the record as stored.
        const r = await q.exec(`SELECT ${COLS} FROM refresh_tokens WHERE id = ? FOR UPDATE`, [id]);
        if (!r.rows[0]) return { kind: 'missing' } as const;
        const token = toToken(r.rows[0]);
        if (spent.affected === 1) return { kind: 'rotated', token } as const;
        if (token.spentAt === null) return { kind: 'missing' } as const; // unspent but expired
        return now - token.spentAt <= graceMs ? ({ kind: 'grace', token } as const) : ({ kind: 'reused', token } as const);
      });
    },
    async deleteRefreshTokensBySession(sessionId) {
      return (await db.exec(`DELETE FROM refresh_tokens WHERE session_id = ?`, [sessionId])).affected;
    },
    async deleteRefreshTokensByUser(userId) {
      return (await db.exec(`DELETE FROM refresh_tokens WHERE user_id = ?`, [userId])).affected;
    },
    async deleteExpiredRefreshTokens(now) {
      return deleteInBatches(db, 'refresh_tokens', 'expires_at', now);
    },
  };
}
