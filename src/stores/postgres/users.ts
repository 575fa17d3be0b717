import type { UserRecord, UserStore } from '../../ports.js';
import { likePrefix, toUser, USER_COLUMNS as COLS, type UserRow } from '../sql/user-row.js';
import type { Db } from './db.js';

const isUniqueViolation = (e: unknown) => (e as { code?: string } | null)?.code === '23505';

export function createPostgresUserStore(db: Db): UserStore {
  return {
    async createUser(u) {
      const r = await db.query(
        `INSERT INTO users (${COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING`,
        [u.id, u.email, u.emailCanonical, u.passwordHash, u.createdAt, u.disabledAt, u.emailVerifiedAt, u.credentialVersion, u.admin],
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
    async searchUsers(q) {
      const where: string[] = [];
      const params: unknown[] = [];
      if (q.emailPrefix !== undefined) where.push(`email_canonical LIKE $${params.push(likePrefix(q.emailPrefix))} ESCAPE '!'`);
      if (q.status === 'disabled') where.push('disabled_at IS NOT NULL');
      if (q.status === 'active') where.push('disabled_at IS NULL AND email_verified_at IS NOT NULL');
      if (q.status === 'unverified') where.push('disabled_at IS NULL AND email_verified_at IS NULL');
      if (q.createdFrom !== undefined) where.push(`created_at >= $${params.push(q.createdFrom)}`);
      if (q.createdTo !== undefined) where.push(`created_at < $${params.push(q.createdTo)}`);
      if (q.after !== undefined) where.push(`(created_at, id) > ($${params.push(q.after.createdAt)}, $${params.push(q.after.id)})`);
      const sql = `SELECT ${COLS} FROM users ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY created_at, id LIMIT $${params.push(q.limit)}`;
      return (await db.query<UserRow>(sql, params)).rows.map(toUser);
    },
    async setAdmin(id, admin) {
      return (await db.query(`UPDATE users SET is_admin = $2 WHERE id = $1`, [id, admin])).rowCount === 1;
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
