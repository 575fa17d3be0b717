import type Database from 'better-sqlite3';
import type { OneTimePurpose, OneTimeTokenRecord, OneTimeTokenStore } from '../../ports.js';
import { fromBlob, toBlob } from './db.js';
import { batchedDelete } from './sweep.js';

interface OneTimeRow {
  id: string;
  user_id: string;
  purpose: OneTimePurpose;
  secret_hash: Buffer;
  binding: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

const toToken = (r: OneTimeRow): OneTimeTokenRecord => ({
  id: r.id,
  userId: r.user_id,
  purpose: r.purpose,
  secretHash: fromBlob(r.secret_hash),
  binding: r.binding,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  usedAt: r.used_at,
});

export function createSqliteOneTimeStore(db: Database.Database): OneTimeTokenStore {
  const insert = db.prepare(
    `INSERT INTO one_time_tokens (id, user_id, purpose, secret_hash, binding, created_at, expires_at, used_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const get = db.prepare<[string], OneTimeRow>('SELECT * FROM one_time_tokens WHERE id = ?');
  // One conditional UPDATE: exactly one caller can flip used_at, whatever the process.
  const consume = db.prepare('UPDATE one_time_tokens SET used_at = ? WHERE id = ? AND used_at IS NULL AND expires_at > ?');
  const byUser = db.prepare('DELETE FROM one_time_tokens WHERE user_id = ?');
  const byUserPurpose = db.prepare('DELETE FROM one_time_tokens WHERE user_id = ? AND purpose = ?');
  const expired = batchedDelete(db, 'one_time_tokens', 'expires_at');

  return {
    async createOneTimeToken(t) {
      insert.run(t.id, t.userId, t.purpose, toBlob(t.secretHash), t.binding, t.createdAt, t.expiresAt, t.usedAt);
    },
    async getOneTimeToken(id) {
      const r = get.get(id);
      return r ? toToken(r) : null;
    },
    async consumeOneTimeToken(id, now) {
      return consume.run(now, id, now).changes === 1;
    },
    async deleteOneTimeTokensByUser(userId, purpose) {
      return (purpose === undefined ? byUser.run(userId) : byUserPurpose.run(userId, purpose)).changes;
    },
    async deleteExpiredOneTimeTokens(now) {
      return expired(now);
    },
  };
}
