import type { UserRecord, UserStore } from '../../ports.js';
import { likePrefix, toUser, USER_COLUMNS as COLS, type UserRow } from '../sql/user-row.js';
import type { Db } from './db.js';

const ER_DUP_ENTRY = 1062;
const isDuplicate = (e: unknown) => (e as { errno?: unknown } | null)?.errno === ER_DUP_ENTRY;

/** A validated integer for LIMIT, which prepared statements on MySQL 8 refuse as a parameter. */
export const limit = (n: number): number => {
  if (!Number.isSafeInteger(n) || n < 0) throw new TypeError(`limit must be a non-negative integer, got ${n}`);
  return n;
};

export function createMysqlUserStore(db: Db): UserStore {
  return {
    async createUser(u) {
      try {
        await db.exec(`INSERT INTO users (${COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, [
          u.id, u.email, u.emailCanonical, u.passwordHash, u.createdAt, u.disabledAt, u.emailVerifiedAt, u.credentialVersion, u.admin ? 1 : 0,
        ]);
        return true;
      } catch (e) {
        // The canonical email (or the id) is taken: the contract's "false", not an error.
        if (isDuplicate(e)) return false;
        throw e;
      }
    },
    async getUserById(id) {
      const r = await db.exec<UserRow>(`SELECT ${COLS} FROM users WHERE id = ?`, [id]);
      return r.rows[0] ? toUser(r.rows[0]) : null;
    },
    async getUserByEmail(emailCanonical) {
      const r = await db.exec<UserRow>(`SELECT ${COLS} FROM users WHERE email_canonical = ?`, [emailCanonical]);
      return r.rows[0] ? toUser(r.rows[0]) : null;
    },
    async listUsers({ limit: n, after }) {
      // A cursor user deleted between pages yields no row to compare with, which ends the listing.
      const r = after === undefined
        ? await db.exec<UserRow>(`SELECT ${COLS} FROM users ORDER BY created_at, id LIMIT ${limit(n)}`)
        : await db.exec<UserRow>(
            `SELECT u.${COLS.split(', ').join(', u.')} FROM users u JOIN users c ON c.id = ?
              WHERE u.created_at > c.created_at OR (u.created_at = c.created_at AND u.id > c.id)
              ORDER BY u.created_at, u.id LIMIT ${limit(n)}`,
            [after],
          );
      return r.rows.map(toUser);
    },
    async searchUsers(q) {
      const where: string[] = [];
      const params: unknown[] = [];
      const filter = (cond: string, ...values: unknown[]) => {
        where.push(cond);
        params.push(...values);
      };
      if (q.emailPrefix !== undefined) filter("email_canonical LIKE ? ESCAPE '!'", likePrefix(q.emailPrefix));
      if (q.status === 'disabled') filter('disabled_at IS NOT NULL');
      if (q.status === 'active') filter('disabled_at IS NULL AND email_verified_at IS NOT NULL');
      if (q.status === 'unverified') filter('disabled_at IS NULL AND email_verified_at IS NULL');
      if (q.createdFrom !== undefined) filter('created_at >= ?', q.createdFrom);
      if (q.createdTo !== undefined) filter('created_at < ?', q.createdTo);
      if (q.after !== undefined) filter('(created_at > ? OR (created_at = ? AND id > ?))', q.after.createdAt, q.after.createdAt, q.after.id);
      const sql = `SELECT ${COLS} FROM users ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY created_at, id LIMIT ${limit(q.limit)}`;
      return (await db.exec<UserRow>(sql, params)).rows.map(toUser);
    },
    async setAdmin(id, admin) {
      // affectedRows counts matched rows here (the pool's FOUND_ROWS flag is not assumed): read back instead.
      await db.exec(`UPDATE users SET is_admin = ? WHERE id = ?`, [admin ? 1 : 0, id]);
      return (await db.exec(`SELECT 1 AS n FROM users WHERE id = ?`, [id])).rows.length === 1;
    },
    async setPasswordHash(id, passwordHash) {
      // MySQL has no RETURNING: the row lock taken by the UPDATE makes the read that follows it in
      // the same transaction see exactly the version this change produced.
      return db.tx(async (q) => {
        const u = await q.exec(`UPDATE users SET password_hash = ?, credential_version = credential_version + 1 WHERE id = ?`, [passwordHash, id]);
        if (u.affected !== 1) return null;
        const r = await q.exec<{ credential_version: number }>(`SELECT credential_version FROM users WHERE id = ?`, [id]);
        return r.rows[0]?.credential_version ?? null;
      });
    },
    async rehashPassword(id, expected, passwordHash) {
      const r = await db.exec(`UPDATE users SET password_hash = ? WHERE id = ? AND password_hash = ?`, [passwordHash, id, expected]);
      return r.affected === 1;
    },
    async setDisabled(id, disabledAt) {
      const r = await db.exec(`UPDATE users SET disabled_at = ?, credential_version = credential_version + 1 WHERE id = ?`, [disabledAt, id]);
      return r.affected === 1;
    },
    async markEmailVerified(id, at) {
      return (await db.exec(`UPDATE users SET email_verified_at = ? WHERE id = ?`, [at, id])).affected === 1;
    },
    async changeEmail(id, email, emailCanonical, verifiedAt) {
      try {
        const r = await db.exec(`UPDATE users SET email = ?, email_canonical = ?, email_verified_at = ? WHERE id = ?`, [
          email, emailCanonical, verifiedAt, id,
        ]);
        return r.affected === 1 ? 'ok' : 'missing';
      } catch (e) {
        if (isDuplicate(e)) return 'taken';
        throw e;
      }
    },
    async deleteUser(id) {
      // Sessions (and their data), refresh tokens and one-time tokens go with the user (ON DELETE CASCADE); audit stays.
      return (await db.exec(`DELETE FROM users WHERE id = ?`, [id])).affected === 1;
    },
  };
}
