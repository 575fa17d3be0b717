/** Second factors, passkeys and pending challenges in SQLite: every check-and-set is one conditional statement. */
import type Database from 'better-sqlite3';
import type { ChallengeRecord, ChallengeStore, PasskeyRecord, PasskeyStore, RecoveryCodeStore, TotpRecord, TotpStore } from '../../ports.js';
import { fromBlob, toBlob } from './db.js';
import { batchedDelete } from './sweep.js';

interface TotpRow {
  user_id: string;
  secret: string;
  encrypted: number;
  created_at: number;
  confirmed_at: number | null;
  last_step: number | null;
}

const toTotp = (r: TotpRow): TotpRecord => ({
  userId: r.user_id,
  secret: r.secret,
  encrypted: r.encrypted === 1,
  createdAt: r.created_at,
  confirmedAt: r.confirmed_at,
  lastStep: r.last_step,
});

export function createSqliteTotpStore(db: Database.Database): TotpStore {
  // Replaces a pending row only: the WHERE of the upsert leaves a confirmed authenticator alone.
  const put = db.prepare(
    `INSERT INTO totp_authenticators (user_id, secret, encrypted, created_at, confirmed_at, last_step) VALUES (?, ?, ?, ?, NULL, ?)
     ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret, encrypted = excluded.encrypted, created_at = excluded.created_at, last_step = excluded.last_step
     WHERE totp_authenticators.confirmed_at IS NULL`,
  );
  const get = db.prepare<[string], TotpRow>('SELECT * FROM totp_authenticators WHERE user_id = ?');
  const confirm = db.prepare('UPDATE totp_authenticators SET confirmed_at = ?, last_step = ? WHERE user_id = ? AND confirmed_at IS NULL');
  const use = db.prepare('UPDATE totp_authenticators SET last_step = ? WHERE user_id = ? AND confirmed_at IS NOT NULL AND (last_step IS NULL OR last_step < ?)');
  const del = db.prepare('DELETE FROM totp_authenticators WHERE user_id = ?');
  return {
    async putPendingTotp(r) {
      return put.run(r.userId, r.secret, r.encrypted ? 1 : 0, r.createdAt, r.lastStep).changes === 1;
    },
    async getTotp(userId) {
      const r = get.get(userId);
      return r ? toTotp(r) : null;
    },
    async confirmTotp(userId, at, step) {
      return confirm.run(at, step, userId).changes === 1;
    },
    async useTotpStep(userId, step) {
      return use.run(step, userId, step).changes === 1;
    },
    async deleteTotp(userId) {
      return del.run(userId).changes === 1;
    },
  };
}

export function createSqliteRecoveryCodeStore(db: Database.Database): RecoveryCodeStore {
  const clear = db.prepare('DELETE FROM recovery_codes WHERE user_id = ?');
  const insert = db.prepare('INSERT OR IGNORE INTO recovery_codes (user_id, code_hash, created_at) VALUES (?, ?, ?)');
  const replace = db.transaction((userId: string, hashes: Uint8Array[], at: number) => {
    clear.run(userId);
    for (const h of hashes) insert.run(userId, toBlob(h), at);
  });
  const use = db.prepare('DELETE FROM recovery_codes WHERE user_id = ? AND code_hash = ?');
  const count = db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM recovery_codes WHERE user_id = ?');
  return {
    async replaceRecoveryCodes(userId, hashes, at) {
      replace.immediate(userId, hashes, at);
    },
    async useRecoveryCode(userId, hash) {
      return use.run(userId, toBlob(hash)).changes === 1;
    },
    async countRecoveryCodes(userId) {
      return count.get(userId)!.n;
    },
    async deleteRecoveryCodes(userId) {
      return clear.run(userId).changes;
    },
  };
}

interface PasskeyRow {
  id: string;
  user_id: string;
  user_handle: string;
  public_key: Buffer;
  counter: number;
  transports: string;
  device_type: string;
  backed_up: number;
  name: string;
  created_at: number;
  last_used_at: number | null;
}

const toPasskey = (r: PasskeyRow): PasskeyRecord => ({
  id: r.id,
  userId: r.user_id,
  userHandle: r.user_handle,
  publicKey: fromBlob(r.public_key),
  counter: r.counter,
  transports: JSON.parse(r.transports) as string[],
  deviceType: r.device_type === 'multiDevice' ? 'multiDevice' : 'singleDevice',
  backedUp: r.backed_up === 1,
  name: r.name,
  createdAt: r.created_at,
  lastUsedAt: r.last_used_at,
});

export function createSqlitePasskeyStore(db: Database.Database): PasskeyStore {
  const insert = db.prepare(
    `INSERT INTO passkeys (id, user_id, user_handle, public_key, counter, transports, device_type, backed_up, name, created_at, last_used_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
  );
  const get = db.prepare<[string], PasskeyRow>('SELECT * FROM passkeys WHERE id = ?');
  const list = db.prepare<[string], PasskeyRow>('SELECT * FROM passkeys WHERE user_id = ? ORDER BY created_at, id');
  const use = db.prepare('UPDATE passkeys SET counter = ?, last_used_at = ? WHERE id = ? AND counter = ?');
  const rename = db.prepare('UPDATE passkeys SET name = ? WHERE id = ? AND user_id = ?');
  const del = db.prepare('DELETE FROM passkeys WHERE id = ? AND user_id = ?');
  const delUser = db.prepare('DELETE FROM passkeys WHERE user_id = ?');
  return {
    async createPasskey(r) {
      return (
        insert.run(r.id, r.userId, r.userHandle, toBlob(r.publicKey), r.counter, JSON.stringify(r.transports), r.deviceType, r.backedUp ? 1 : 0, r.name, r.createdAt, r.lastUsedAt)
          .changes === 1
      );
    },
    async getPasskey(id) {
      const r = get.get(id);
      return r ? toPasskey(r) : null;
    },
    async listPasskeys(userId) {
      return list.all(userId).map(toPasskey);
    },
    async recordPasskeyUse(id, expected, counter, at) {
      return use.run(counter, at, id, expected).changes === 1;
    },
    async renamePasskey(userId, id, name) {
      return rename.run(name, id, userId).changes === 1;
    },
    async deletePasskey(userId, id) {
      return del.run(id, userId).changes === 1;
    },
    async deletePasskeysByUser(userId) {
      return delUser.run(userId).changes;
    },
  };
}

interface ChallengeRow {
  id: string;
  purpose: ChallengeRecord['purpose'];
  secret_hash: Buffer;
  user_id: string | null;
  binding: string;
  created_at: number;
  expires_at: number;
  failures: number;
  used_at: number | null;
}

const toChallenge = (r: ChallengeRow): ChallengeRecord => ({
  id: r.id,
  purpose: r.purpose,
  secretHash: fromBlob(r.secret_hash),
  userId: r.user_id,
  binding: r.binding,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  failures: r.failures,
  usedAt: r.used_at,
});

export function createSqliteChallengeStore(db: Database.Database): ChallengeStore {
  const insert = db.prepare(
    'INSERT INTO auth_challenges (id, purpose, secret_hash, user_id, binding, created_at, expires_at, failures, used_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const get = db.prepare<[string], ChallengeRow>('SELECT * FROM auth_challenges WHERE id = ?');
  const consume = db.prepare('UPDATE auth_challenges SET used_at = ? WHERE id = ? AND used_at IS NULL AND expires_at > ?');
  const fail = db.prepare<[number, number, string, number], { failures: number }>(
    `UPDATE auth_challenges SET failures = failures + 1, used_at = CASE WHEN failures + 1 >= ? THEN ? ELSE NULL END
     WHERE id = ? AND used_at IS NULL AND expires_at > ? RETURNING failures`,
  );
  const byUser = db.prepare('DELETE FROM auth_challenges WHERE user_id = ?');
  const expired = batchedDelete(db, 'auth_challenges', 'expires_at');
  return {
    async createChallenge(r) {
      insert.run(r.id, r.purpose, toBlob(r.secretHash), r.userId, r.binding, r.createdAt, r.expiresAt, r.failures, r.usedAt);
    },
    async getChallenge(id) {
      const r = get.get(id);
      return r ? toChallenge(r) : null;
    },
    async consumeChallenge(id, now) {
      return consume.run(now, id, now).changes === 1;
    },
    async failChallenge(id, maxFailures, now) {
      const r = fail.get(maxFailures, now, id, now);
      return r ? r.failures : null;
    },
    async deleteChallengesByUser(userId) {
      return byUser.run(userId).changes;
    },
    async deleteExpiredChallenges(now) {
      return expired(now);
    },
  };
}
