import type Database from 'better-sqlite3';
import type { RefreshTokenRecord, RefreshTokenStore, RotateResult } from '../../ports.js';
import { blobOrNull, fromBlob, toBlob } from './db.js';
import { batchedDelete } from './sweep.js';

interface RefreshRow {
  id: string;
  session_id: string;
  user_id: string;
  secret_hash: Buffer;
  created_at: number;
  expires_at: number;
  spent_at: number | null;
  successor_id: string | null;
  successor_salt: Buffer | null;
}

const COLUMNS = 'id, session_id, user_id, secret_hash, created_at, expires_at, spent_at, successor_id, successor_salt';

function toToken(r: RefreshRow): RefreshTokenRecord {
  return {
    id: r.id,
    sessionId: r.session_id,
    userId: r.user_id,
    secretHash: fromBlob(r.secret_hash),
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    spentAt: r.spent_at,
    successorId: r.successor_id,
    successorSalt: r.successor_salt ? fromBlob(r.successor_salt) : null,
  };
}

export function createSqliteRefreshStore(db: Database.Database): RefreshTokenStore {
  const insert = db.prepare(`INSERT INTO refresh_tokens (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const get = db.prepare<[string], RefreshRow>(`SELECT ${COLUMNS} FROM refresh_tokens WHERE id = ?`);
  const spend = db.prepare(
    'UPDATE refresh_tokens SET spent_at = ?, successor_id = ?, successor_salt = ? WHERE id = ? AND spent_at IS NULL',
  );
  const bySession = db.prepare('DELETE FROM refresh_tokens WHERE session_id = ?');
  const byUser = db.prepare('DELETE FROM refresh_tokens WHERE user_id = ?');
  const expired = batchedDelete(db, 'refresh_tokens', 'expires_at');

  const add = (t: RefreshTokenRecord) =>
    insert.run(t.id, t.sessionId, t.userId, toBlob(t.secretHash), t.createdAt, t.expiresAt, t.spentAt, t.successorId, blobOrNull(t.successorSalt));

  const rotate = db.transaction(
    (id: string, successor: RefreshTokenRecord, now: number, graceMs: number, salt: Uint8Array | null): RotateResult => {
      const row = get.get(id);
      if (!row) return { kind: 'missing' };
      if (row.spent_at === null && spend.run(now, successor.id, blobOrNull(salt), id).changes === 1) {
        add(successor);
        return { kind: 'rotated', token: toToken(get.get(id)!) };
      }
      const spentAt = row.spent_at ?? now;
      return { kind: now - spentAt <= graceMs ? 'grace' : 'reused', token: toToken(row) };
    },
  );

  return {
    async createRefreshToken(token) {
      add(token);
    },
    async getRefreshToken(id) {
      const r = get.get(id);
      return r ? toToken(r) : null;
    },
    async rotateRefreshToken(id, successor, now, graceMs, successorSalt = null) {
      // IMMEDIATE takes the write lock before reading, so another process cannot spend it in between.
      return rotate.immediate(id, successor, now, graceMs, successorSalt);
    },
    async deleteRefreshTokensBySession(sessionId) {
      return bySession.run(sessionId).changes;
    },
    async deleteRefreshTokensByUser(userId) {
      return byUser.run(userId).changes;
    },
    async deleteExpiredRefreshTokens(now) {
      return expired(now);
    },
  };
}
