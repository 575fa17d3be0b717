/**
 * Second factors, passkeys and pending challenges in MySQL. Every check-and-set is one conditional
 * UPDATE or DELETE (concurrent callers queue on the row lock and re-read it as committed before
 * matching), or a short transaction where MySQL has no RETURNING to report what it did.
 */
import type { ChallengeRecord, ChallengeStore, PasskeyRecord, PasskeyStore, RecoveryCodeStore, TotpRecord, TotpStore } from '../../ports.js';
import type { Db, Row } from './db.js';
import { deleteInBatches } from './sweep.js';

const buf = (b: Uint8Array) => Buffer.from(b);
const ER_DUP_ENTRY = 1062;
const isDuplicate = (e: unknown) => (e as { errno?: unknown } | null)?.errno === ER_DUP_ENTRY;

const TOTP_COLS = 'user_id, secret, encrypted, created_at, confirmed_at, last_step';

const toTotp = (r: Row): TotpRecord => ({
  userId: r.user_id as string,
  secret: r.secret as string,
  encrypted: Number(r.encrypted) === 1,
  createdAt: r.created_at as number,
  confirmedAt: (r.confirmed_at as number | null) ?? null,
  lastStep: (r.last_step as number | null) ?? null,
});

export function createMysqlTotpStore(db: Db): TotpStore {
  return {
    async putPendingTotp(t) {
      // With CLIENT_FOUND_ROWS an upsert that leaves a row as it was reports 1, like an insert, so
      // the confirmed case is told apart under the row lock instead.
      return db.tx(async (q) => {
        const cur = await q.exec<{ confirmed_at: number | null }>(`SELECT confirmed_at FROM totp_authenticators WHERE user_id = ? FOR UPDATE`, [t.userId]);
        if (cur.rows[0] && cur.rows[0].confirmed_at !== null) return false;
        await q.exec(
          `INSERT INTO totp_authenticators (${TOTP_COLS}) VALUES (?, ?, ?, ?, NULL, ?)
           ON DUPLICATE KEY UPDATE secret = ?, encrypted = ?, created_at = ?, confirmed_at = NULL, last_step = ?`,
          [t.userId, t.secret, t.encrypted ? 1 : 0, t.createdAt, t.lastStep, t.secret, t.encrypted ? 1 : 0, t.createdAt, t.lastStep],
        );
        return true;
      });
    },
    async getTotp(userId) {
      const r = await db.exec(`SELECT ${TOTP_COLS} FROM totp_authenticators WHERE user_id = ?`, [userId]);
      return r.rows[0] ? toTotp(r.rows[0]) : null;
    },
    async confirmTotp(userId, at, step) {
      const r = await db.exec(`UPDATE totp_authenticators SET confirmed_at = ?, last_step = ? WHERE user_id = ? AND confirmed_at IS NULL`, [at, step, userId]);
      return r.affected === 1;
    },
    async useTotpStep(userId, step) {
      // Concurrent updates of the row queue on its lock; the loser re-reads last_step and matches nothing.
      const r = await db.exec(
        `UPDATE totp_authenticators SET last_step = ? WHERE user_id = ? AND confirmed_at IS NOT NULL AND (last_step IS NULL OR last_step < ?)`,
        [step, userId, step],
      );
      return r.affected === 1;
    },
    async deleteTotp(userId) {
      return (await db.exec(`DELETE FROM totp_authenticators WHERE user_id = ?`, [userId])).affected === 1;
    },
  };
}

export function createMysqlRecoveryCodeStore(db: Db): RecoveryCodeStore {
  return {
    async replaceRecoveryCodes(userId, hashes, at) {
      await db.tx(async (q) => {
        await q.exec(`DELETE FROM recovery_codes WHERE user_id = ?`, [userId]);
        // One statement shape per code (a handful of them), rather than one per set size.
        for (const h of hashes) {
          await q.exec(`INSERT INTO recovery_codes (user_id, code_hash, created_at) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE created_at = created_at`, [
            userId, buf(h), at,
          ]);
        }
      });
    },
    async useRecoveryCode(userId, hash) {
      return (await db.exec(`DELETE FROM recovery_codes WHERE user_id = ? AND code_hash = ?`, [userId, buf(hash)])).affected === 1;
    },
    async countRecoveryCodes(userId) {
      const r = await db.exec<{ n: number }>(`SELECT count(*) AS n FROM recovery_codes WHERE user_id = ?`, [userId]);
      return Number(r.rows[0]?.n ?? 0);
    },
    async deleteRecoveryCodes(userId) {
      return (await db.exec(`DELETE FROM recovery_codes WHERE user_id = ?`, [userId])).affected;
    },
  };
}

const PK_COLS = 'id, user_id, user_handle, public_key, counter, transports, device_type, backed_up, name, created_at, last_used_at';

const toPasskey = (r: Row): PasskeyRecord => ({
  // The credential id is kept as bytes (VARBINARY): an exact key, longer than a utf8mb4 index allows.
  id: (r.id as Buffer).toString('utf8'),
  userId: r.user_id as string,
  userHandle: r.user_handle as string,
  publicKey: new Uint8Array(r.public_key as Buffer),
  counter: r.counter as number,
  transports: JSON.parse(r.transports as string) as string[],
  deviceType: r.device_type === 'multiDevice' ? 'multiDevice' : 'singleDevice',
  backedUp: Number(r.backed_up) === 1,
  name: r.name as string,
  createdAt: r.created_at as number,
  lastUsedAt: (r.last_used_at as number | null) ?? null,
});

const credentialId = (id: string) => Buffer.from(id, 'utf8');

export function createMysqlPasskeyStore(db: Db): PasskeyStore {
  return {
    async createPasskey(p) {
      try {
        await db.exec(`INSERT INTO passkeys (${PK_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, [
          credentialId(p.id), p.userId, p.userHandle, buf(p.publicKey), p.counter, JSON.stringify(p.transports), p.deviceType,
          p.backedUp ? 1 : 0, p.name, p.createdAt, p.lastUsedAt,
        ]);
        return true;
      } catch (e) {
        if (isDuplicate(e)) return false;
        throw e;
      }
    },
    async getPasskey(id) {
      const r = await db.exec(`SELECT ${PK_COLS} FROM passkeys WHERE id = ?`, [credentialId(id)]);
      return r.rows[0] ? toPasskey(r.rows[0]) : null;
    },
    async listPasskeys(userId) {
      const r = await db.exec(`SELECT ${PK_COLS} FROM passkeys WHERE user_id = ? ORDER BY created_at, id`, [userId]);
      return r.rows.map(toPasskey);
    },
    async recordPasskeyUse(id, expected, counter, at) {
      const r = await db.exec(`UPDATE passkeys SET counter = ?, last_used_at = ? WHERE id = ? AND counter = ?`, [counter, at, credentialId(id), expected]);
      return r.affected === 1;
    },
    async renamePasskey(userId, id, name) {
      return (await db.exec(`UPDATE passkeys SET name = ? WHERE id = ? AND user_id = ?`, [name, credentialId(id), userId])).affected === 1;
    },
    async deletePasskey(userId, id) {
      return (await db.exec(`DELETE FROM passkeys WHERE id = ? AND user_id = ?`, [credentialId(id), userId])).affected === 1;
    },
    async deletePasskeysByUser(userId) {
      return (await db.exec(`DELETE FROM passkeys WHERE user_id = ?`, [userId])).affected;
    },
  };
}

const CH_COLS = 'id, purpose, secret_hash, user_id, binding, created_at, expires_at, failures, used_at';

const toChallenge = (r: Row): ChallengeRecord => ({
  id: r.id as string,
  purpose: r.purpose as ChallengeRecord['purpose'],
  secretHash: new Uint8Array(r.secret_hash as Buffer),
  userId: (r.user_id as string | null) ?? null,
  binding: r.binding as string,
  createdAt: r.created_at as number,
  expiresAt: r.expires_at as number,
  failures: r.failures as number,
  usedAt: (r.used_at as number | null) ?? null,
});

export function createMysqlChallengeStore(db: Db): ChallengeStore {
  return {
    async createChallenge(c) {
      await db.exec(`INSERT INTO auth_challenges (${CH_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, [
        c.id, c.purpose, buf(c.secretHash), c.userId, c.binding, c.createdAt, c.expiresAt, c.failures, c.usedAt,
      ]);
    },
    async getChallenge(id) {
      const r = await db.exec(`SELECT ${CH_COLS} FROM auth_challenges WHERE id = ?`, [id]);
      return r.rows[0] ? toChallenge(r.rows[0]) : null;
    },
    async consumeChallenge(id, now) {
      return (await db.exec(`UPDATE auth_challenges SET used_at = ? WHERE id = ? AND used_at IS NULL AND expires_at > ?`, [now, id, now])).affected === 1;
    },
    async failChallenge(id, maxFailures, now) {
      return db.tx(async (q) => {
        // MySQL assigns left to right and later expressions see earlier assignments: used_at is
        // decided from the count before this failure, then the count moves.
        const u = await q.exec(
          `UPDATE auth_challenges SET used_at = CASE WHEN failures + 1 >= ? THEN ? ELSE NULL END, failures = failures + 1
            WHERE id = ? AND used_at IS NULL AND expires_at > ?`,
          [maxFailures, now, id, now],
        );
        if (u.affected !== 1) return null;
        // Still under the row lock the UPDATE took: the count this call produced.
        const r = await q.exec<{ failures: number }>(`SELECT failures FROM auth_challenges WHERE id = ?`, [id]);
        return r.rows[0] ? Number(r.rows[0].failures) : null;
      });
    },
    async deleteChallengesByUser(userId) {
      return (await db.exec(`DELETE FROM auth_challenges WHERE user_id = ?`, [userId])).affected;
    },
    async deleteExpiredChallenges(now) {
      return deleteInBatches(db, 'auth_challenges', 'expires_at', now);
    },
  };
}
