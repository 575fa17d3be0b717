import type { RefreshTokenRecord, RefreshTokenStore } from '../../ports.js';
import { REFRESH_COLUMNS, refreshParams, toRefreshToken, type BytesCodec, type RefreshRow } from '../sql/refresh-row.js';
import type { Db } from './db.js';
import { deleteInBatches } from './sweep.js';

/** A refresh_tokens row as pg returns it (bytea as Buffer). */
type TokenRow = RefreshRow;
const COLS = REFRESH_COLUMNS;

const bytes = (u: Uint8Array | null) => (u ? Buffer.from(u.buffer, u.byteOffset, u.byteLength) : null);

const BYTES: BytesCodec = { out: (u) => Buffer.from(u.buffer, u.byteOffset, u.byteLength), in: (b) => b };
const toToken = (r: TokenRow): RefreshTokenRecord => toRefreshToken(r, BYTES);
const insertParams = (t: RefreshTokenRecord) => refreshParams(t, BYTES);
const INSERT = `INSERT INTO refresh_tokens (${COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`;

export function createPostgresRefreshStore(db: Db): RefreshTokenStore {
  return {
    async createRefreshToken(t) {
      await db.query(INSERT, insertParams(t));
    },
    async getRefreshToken(id) {
      const r = await db.query<TokenRow>(`SELECT ${COLS} FROM refresh_tokens WHERE id = $1`, [id]);
      return r.rows[0] ? toToken(r.rows[0]) : null;
    },
    async rotateRefreshToken(id, successor, now, graceMs, successorSalt) {
      return db.tx(async (q) => {
        // The conditional UPDATE is the decision: of concurrent rotations, the first takes the row
        // lock and spends the token; the others re-check `spent_at IS NULL` after it commits and
        // match nothing, so only one successor is ever inserted.
        const spent = await q.query<TokenRow>(
          `UPDATE refresh_tokens SET spent_at = $2, successor_id = $3, successor_salt = $4
            WHERE id = $1 AND spent_at IS NULL AND expires_at > $2
            RETURNING ${COLS}`,
          [id, now, successor.id, bytes(successorSalt ?? null)],
        );
        if (spent.rows[0]) {
          await q.query(INSERT, insertParams(successor));
          return { kind: 'rotated', token: toToken(spent.rows[0]) } as const;
        }
        const r = await q.query<TokenRow>(`SELECT ${COLS} FROM refresh_tokens WHERE id = $1`, [id]);
        if (!r.rows[0]) return { kind: 'missing' } as const;
        const token = toToken(r.rows[0]);
        if (token.spentAt === null) return { kind: 'missing' } as const; // unspent but expired
        return now - token.spentAt <= graceMs ? ({ kind: 'grace', token } as const) : ({ kind: 'reused', token } as const);
      });
    },
    async deleteRefreshTokensBySession(sessionId) {
      return (await db.query(`DELETE FROM refresh_tokens WHERE session_id = $1`, [sessionId])).rowCount;
    },
    async deleteRefreshTokensByUser(userId) {
      return (await db.query(`DELETE FROM refresh_tokens WHERE user_id = $1`, [userId])).rowCount;
    },
    async deleteExpiredRefreshTokens(now) {
      return deleteInBatches(db, 'refresh_tokens', now);
    },
  };
}
