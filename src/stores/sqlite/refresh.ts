import type Database from 'better-sqlite3';
import type { RefreshTokenRecord, RefreshTokenStore, RotateResult } from '../../ports.js';
import { REFRESH_COLUMNS, refreshParams, toRefreshToken, type BytesCodec, type RefreshRow } from '../sql/refresh-row.js';
import { blobOrNull, fromBlob, toBlob } from './db.js';
import { batchedDelete } from './sweep.js';

const COLUMNS = REFRESH_COLUMNS;
const BYTES: BytesCodec = { out: toBlob, in: fromBlob };
const toToken = (r: RefreshRow): RefreshTokenRecord => toRefreshToken(r, BYTES);

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
    insert.run(...refreshParams(t, BYTES));

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
