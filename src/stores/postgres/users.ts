import type { UserRecord, UserStore } from '../../ports.js';
import type { Db } from './db.js';

/** A users row as pg returns it (int8 columns are parsed as numbers by the pool's type parser). */
type UserRow = {
  id: string;
  email: string;
  email_canonical: string;
  password_hash: string;
  created_at: number;
  disabled_at: number | null;
  email_verified_at: number | null;
  credential_version: number;
};

const COLS = 'id, email, email_canonical, password_hash, created_at, disabled_at, email_verified_at, credential_version';

function toUser(r: UserRow): UserRecord {
  return {
    id: r.id,
    email: r.email,
    emailCanonical: r.email_canonical,
    passwordHash: r.password_hash,
    createdAt: r.created_at,
    disabledAt: r.disabled_at,
    emailVerifiedAt: r.email_verified_at,
    credentialVersion: r.credential_version,
  };
}

const isUniqueViolation = (e: unknown) => (e as { code?: string } | null)?.code === '23505';

export function createPostgresUserStore(db: Db): UserStore {
  return {
    async createUser(u) {
      const r = await db.query(
        `INSERT INTO users (${COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`,
        [u.id, u.email, u.emailCanonical, u.passwordHash, u.createdAt, u.disabledAt, u.emailVerifiedAt, u.credentialVersion],
      );
      return r.rowCount === 1;
    },
    async getUserById(id) {
      const r = await db.query<UserRow>(`SELECT ${COLS} FROM users WHERE id = $1`, [id]);
      return r.rows[0] ? toUser(r.rows[0]) : null;
    },
    async getUserByEmail(emailCanonical) {
      const r = await db.query<UserRow>(`SELECT ${COLS} FROM users WHERE email_canonical = $1`, [emailCanonical]);
      return r.rows[0] ? toUser(r.rows[0]) : null;
    },
    async listUsers({ limit, after }) {
      const r = after === undefined
        ? await db.query<UserRow>(`SELECT ${COLS} FROM users ORDER BY created_at, id LIMIT $1`, [limit])
        : await db.query<UserRow>(
            `SELECT ${COLS} FROM users
              WHERE (created_at, id) > (SELECT created_at, id FROM users WHERE id = $2)
              ORDER BY created_at, id LIMIT $1`,
            [limit, after],
          );
      return r.rows.map(toUser);
    },
    async setPasswordHash(id, passwordHash) {
      const r = await db.query<{ credential_version: number }>(
        `UPDATE users SET password_hash = $2, credential_version = credential_version + 1 WHERE id = $1 RETURNING credential_version`,
        [id, passwordHash],
      );
      return r.rows[0]?.credential_version ?? null;
    },
    async rehashPassword(id, expected, passwordHash) {
      const r = await db.query(`UPDATE users SET password_hash = $3 WHERE id = $1 AND password_hash = $2`, [id, expected, passwordHash]);
      return r.rowCount === 1;
    },
    async setDisabled(id, disabledAt) {
      const r = await db.query(`UPDATE users SET disabled_at = $2, credential_version = credential_version + 1 WHERE id = $1`, [id, disabledAt]);
      return r.rowCount === 1;
    },
    async markEmailVerified(id, at) {
      return (await db.query(`UPDATE users SET email_verified_at = $2 WHERE id = $1`, [id, at])).rowCount === 1;
    },
    async changeEmail(id, email, emailCanonical, verifiedAt) {
      try {
        const r = await db.query(
          `UPDATE users SET email = $2, email_canonical = $3, email_verified_at = $4 WHERE id = $1`,
          [id, email, emailCanonical, verifiedAt],
        );
        return r.rowCount === 1 ? 'ok' : 'missing';
      } catch (e) {
        if (isUniqueViolation(e)) return 'taken';
        throw e;
      }
    },
    async deleteUser(id) {
      // Sessions, refresh tokens and one-time tokens go with the user (ON DELETE CASCADE); audit stays.
      return (await db.query(`DELETE FROM users WHERE id = $1`, [id])).rowCount === 1;
    },
  };
}
