import type { RefreshTokenRecord, RefreshTokenStore } from '../../ports.js';
import type { Db, Row } from './db.js';
import { deleteInBatches } from './sweep.js';

const COLS = 'id, session_id, user_id, secret_hash, created_at, expires_at, spent_at, successor_id, successor_salt';

function toToken(r: Row): RefreshTokenRecord {
  return {
    id: r.id as string,
    sessionId: r.session_id as string,
    userId: r.user_id as string,
    secretHash: new Uint8Array(r.secret_hash as Buffer),
    createdAt: r.created_at as number,
    expiresAt: r.expires_at as number,
    spentAt: (r.spent_at as number | null) ?? null,
    successorId: (r.successor_id as string | null) ?? null,
    successorSalt: r.successor_salt ? new Uint8Array(r.successor_salt as Buffer) : null,
  };
}

const bytes = (u: Uint8Array | null) => (u ? Buffer.from(u) : null);

const INSERT = `INSERT INTO refresh_tokens (${COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`;
const insertParams = (t: RefreshTokenRecord) => [
  t.id, t.sessionId, t.userId, bytes(t.secretHash), t.createdAt, t.expiresAt, t.spentAt, t.successorId, bytes(t.successorSalt),
];

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
