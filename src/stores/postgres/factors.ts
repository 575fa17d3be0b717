/** Second factors, passkeys and pending challenges in PostgreSQL: every check-and-set is one conditional statement. */
import type { ChallengeRecord, ChallengeStore, PasskeyRecord, PasskeyStore, RecoveryCodeStore, TotpRecord, TotpStore } from '../../ports.js';
import type { Db } from './db.js';
import { deleteInBatches } from './sweep.js';

const buf = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

/** A totp_authenticators row as pg returns it. */
type TotpRow = { user_id: string; secret: string; encrypted: boolean; created_at: number; confirmed_at: number | null; last_step: number | null };

const toTotp = (r: TotpRow): TotpRecord => ({
  userId: r.user_id,
  secret: r.secret,
  encrypted: r.encrypted,
  createdAt: r.created_at,
  confirmedAt: r.confirmed_at,
  lastStep: r.last_step,
});

export function createPostgresTotpStore(db: Db): TotpStore {
  return {
    async putPendingTotp(t) {
      // The upsert's WHERE leaves a confirmed authenticator alone (rowCount 0).
      const r = await db.query(
        `INSERT INTO totp_authenticators (user_id, secret, encrypted, created_at, confirmed_at, last_step) VALUES ($1, $2, $3, $4, NULL, $5)
         ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret, encrypted = excluded.encrypted, created_at = excluded.created_at, last_step = excluded.last_step
         WHERE totp_authenticators.confirmed_at IS NULL`,
        [t.userId, t.secret, t.encrypted, t.createdAt, t.lastStep],
      );
      return r.rowCount === 1;
    },
    async getTotp(userId) {
      const r = await db.query<TotpRow>(`SELECT user_id, secret, encrypted, created_at, confirmed_at, last_step FROM totp_authenticators WHERE user_id = $1`, [userId]);
      return r.rows[0] ? toTotp(r.rows[0]) : null;
    },
    async confirmTotp(userId, at, step) {
      const r = await db.query(`UPDATE totp_authenticators SET confirmed_at = $2, last_step = $3 WHERE user_id = $1 AND confirmed_at IS NULL`, [userId, at, step]);
      return r.rowCount === 1;
    },
    async useTotpStep(userId, step) {
      // Concurrent updates of the row serialise; the loser re-checks last_step and matches nothing.
      const r = await db.query(
        `UPDATE totp_authenticators SET last_step = $2 WHERE user_id = $1 AND confirmed_at IS NOT NULL AND (last_step IS NULL OR last_step < $2)`,
        [userId, step],
      );
      return r.rowCount === 1;
    },
    async deleteTotp(userId) {
      return (await db.query(`DELETE FROM totp_authenticators WHERE user_id = $1`, [userId])).rowCount === 1;
    },
  };
}

export function createPostgresRecoveryCodeStore(db: Db): RecoveryCodeStore {
  return {
    async replaceRecoveryCodes(userId, hashes, at) {
      await db.tx(async (q) => {
        await q.query(`DELETE FROM recovery_codes WHERE user_id = $1`, [userId]);
        if (hashes.length > 0) {
          await q.query(`INSERT INTO recovery_codes (user_id, code_hash, created_at) SELECT $1, h, $3 FROM unnest($2::bytea[]) AS h ON CONFLICT DO NOTHING`, [
            userId,
            hashes.map(buf),
            at,
          ]);
        }
      });
    },
    async useRecoveryCode(userId, hash) {
      return (await db.query(`DELETE FROM recovery_codes WHERE user_id = $1 AND code_hash = $2`, [userId, buf(hash)])).rowCount === 1;
    },
    async countRecoveryCodes(userId) {
      const r = await db.query<{ n: string }>(`SELECT count(*)::int AS n FROM recovery_codes WHERE user_id = $1`, [userId]);
      return Number(r.rows[0]!.n);
    },
    async deleteRecoveryCodes(userId) {
      return (await db.query(`DELETE FROM recovery_codes WHERE user_id = $1`, [userId])).rowCount;
    },
  };
}

const PK_COLS = 'id, user_id, user_handle, public_key, counter, transports, device_type, backed_up, name, created_at, last_used_at';

/** A passkeys row as pg returns it (int8 columns parse as numbers in this pool). */
type PasskeyRow = {
  id: string;
  user_id: string;
  user_handle: string;
  public_key: Buffer;
  counter: number;
  transports: string[];
  device_type: string;
  backed_up: boolean;
  name: string;
  created_at: number;
  last_used_at: number | null;
};

const toPasskey = (r: PasskeyRow): PasskeyRecord => ({
  id: r.id,
  userId: r.user_id,
  userHandle: r.user_handle,
  publicKey: new Uint8Array(r.public_key),
  counter: r.counter,
  transports: r.transports,
  deviceType: r.device_type === 'multiDevice' ? 'multiDevice' : 'singleDevice',
  backedUp: r.backed_up,
  name: r.name,
  createdAt: r.created_at,
  lastUsedAt: r.last_used_at,
});

export function createPostgresPasskeyStore(db: Db): PasskeyStore {
  return {
    async createPasskey(p) {
      const r = await db.query(`INSERT INTO passkeys (${PK_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (id) DO NOTHING`, [
        p.id, p.userId, p.userHandle, buf(p.publicKey), p.counter, p.transports, p.deviceType, p.backedUp, p.name, p.createdAt, p.lastUsedAt,
      ]);
      return r.rowCount === 1;
    },
    async getPasskey(id) {
      const r = await db.query<PasskeyRow>(`SELECT ${PK_COLS} FROM passkeys WHERE id = $1`, [id]);
      return r.rows[0] ? toPasskey(r.rows[0]) : null;
    },
    async listPasskeys(userId) {
      const r = await db.query<PasskeyRow>(`SELECT ${PK_COLS} FROM passkeys WHERE user_id = $1 ORDER BY created_at, id`, [userId]);
      return r.rows.map(toPasskey);
    },
    async recordPasskeyUse(id, expected, counter, at) {
      return (await db.query(`UPDATE passkeys SET counter = $3, last_used_at = $4 WHERE id = $1 AND counter = $2`, [id, expected, counter, at])).rowCount === 1;
    },
    async renamePasskey(userId, id, name) {
      return (await db.query(`UPDATE passkeys SET name = $3 WHERE id = $2 AND user_id = $1`, [userId, id, name])).rowCount === 1;
    },
    async deletePasskey(userId, id) {
      return (await db.query(`DELETE FROM passkeys WHERE id = $2 AND user_id = $1`, [userId, id])).rowCount === 1;
    },
    async deletePasskeysByUser(userId) {
      return (await db.query(`DELETE FROM passkeys WHERE user_id = $1`, [userId])).rowCount;
    },
  };
}

const CH_COLS = 'id, purpose, secret_hash, user_id, binding, created_at, expires_at, failures, used_at';

/** An auth_challenges row as pg returns it. */
type ChallengeRow = {
  id: string;
  purpose: ChallengeRecord['purpose'];
  secret_hash: Buffer;
  user_id: string | null;
  binding: string;
  created_at: number;
  expires_at: number;
  failures: number;
  used_at: number | null;
};

const toChallenge = (r: ChallengeRow): ChallengeRecord => ({
  id: r.id,
  purpose: r.purpose,
  secretHash: new Uint8Array(r.secret_hash),
  userId: r.user_id,
  binding: r.binding,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  failures: r.failures,
  usedAt: r.used_at,
});

export function createPostgresChallengeStore(db: Db): ChallengeStore {
  return {
    async createChallenge(c) {
      await db.query(`INSERT INTO auth_challenges (${CH_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, [
        c.id, c.purpose, buf(c.secretHash), c.userId, c.binding, c.createdAt, c.expiresAt, c.failures, c.usedAt,
      ]);
    },
    async getChallenge(id) {
      const r = await db.query<ChallengeRow>(`SELECT ${CH_COLS} FROM auth_challenges WHERE id = $1`, [id]);
      return r.rows[0] ? toChallenge(r.rows[0]) : null;
    },
    async consumeChallenge(id, now) {
      return (await db.query(`UPDATE auth_challenges SET used_at = $2 WHERE id = $1 AND used_at IS NULL AND expires_at > $2`, [id, now])).rowCount === 1;
    },
    async failChallenge(id, maxFailures, now) {
      const r = await db.query<{ failures: number }>(
        `UPDATE auth_challenges SET failures = failures + 1, used_at = CASE WHEN failures + 1 >= $2 THEN $3 ELSE NULL END
         WHERE id = $1 AND used_at IS NULL AND expires_at > $3 RETURNING failures`,
        [id, maxFailures, now],
      );
      return r.rows[0] ? Number(r.rows[0].failures) : null;
    },
    async deleteChallengesByUser(userId) {
      return (await db.query(`DELETE FROM auth_challenges WHERE user_id = $1`, [userId])).rowCount;
    },
    async deleteExpiredChallenges(now) {
      return deleteInBatches(db, 'auth_challenges', now);
    },
  };
}
