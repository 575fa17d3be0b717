import type Database from 'better-sqlite3';
import type { UserRecord, UserSearchQuery, UserStore } from '../../ports.js';
import { likePrefix, toUser, USER_COLUMNS as COLUMNS, type UserRow } from '../sql/user-row.js';

export function createSqliteUserStore(db: Database.Database): UserStore {
  const insert = db.prepare(
    `INSERT INTO users (${COLUMNS}) VALUES (@id, @email, @emailCanonical, @passwordHash, @createdAt, @disabledAt, @emailVerifiedAt, @credentialVersion, @isAdmin)
     ON CONFLICT DO NOTHING`,
  );
  const byId = db.prepare<[string], UserRow>(`SELECT ${COLUMNS} FROM users WHERE id = ?`);
  const byEmail = db.prepare<[string], UserRow>(`SELECT ${COLUMNS} FROM users WHERE email_canonical = ?`);
  const first = db.prepare<[number], UserRow>(`SELECT ${COLUMNS} FROM users ORDER BY created_at, id LIMIT ?`);
  // A cursor user deleted between pages yields no row to compare with, which ends the listing.
  const next = db.prepare<[string, number], UserRow>(
    `SELECT ${COLUMNS} FROM users WHERE (created_at, id) > (SELECT created_at, id FROM users WHERE id = ?)
     ORDER BY created_at, id LIMIT ?`,
  );
  const setPassword = db.prepare<[string, string], { credential_version: number }>(
    'UPDATE users SET password_hash = ?, credential_version = credential_version + 1 WHERE id = ? RETURNING credential_version',
  );
  const rehash = db.prepare('UPDATE users SET password_hash = ? WHERE id = ? AND password_hash = ?');
  const setDisabled = db.prepare('UPDATE users SET disabled_at = ?, credential_version = credential_version + 1 WHERE id = ?');
  const setVerified = db.prepare('UPDATE users SET email_verified_at = ? WHERE id = ?');
  const holder = db.prepare<[string], { id: string }>('SELECT id FROM users WHERE email_canonical = ?');
  const setEmail = db.prepare('UPDATE users SET email = ?, email_canonical = ?, email_verified_at = ? WHERE id = ?');
  const remove = db.prepare('DELETE FROM users WHERE id = ?');
  const setAdmin = db.prepare('UPDATE users SET is_admin = ? WHERE id = ?');
  // One prepared statement per combination of filters, built on first use.
  const searches = new Map<string, Database.Statement<Record<string, unknown>, UserRow>>();
  function search(q: UserSearchQuery): UserRow[] {
    const where: string[] = [];
    const params: Record<string, unknown> = { limit: q.limit };
    if (q.emailPrefix !== undefined) {
      where.push("email_canonical LIKE @prefix ESCAPE '!'");
      params.prefix = likePrefix(q.emailPrefix);
    }
    if (q.status === 'disabled') where.push('disabled_at IS NOT NULL');
    if (q.status === 'active') where.push('disabled_at IS NULL AND email_verified_at IS NOT NULL');
    if (q.status === 'unverified') where.push('disabled_at IS NULL AND email_verified_at IS NULL');
    if (q.createdFrom !== undefined) {
      where.push('created_at >= @from');
      params.from = q.createdFrom;
    }
    if (q.createdTo !== undefined) {
      where.push('created_at < @to');
      params.to = q.createdTo;
    }
    if (q.after !== undefined) {
      where.push('(created_at, id) > (@afterAt, @afterId)');
      params.afterAt = q.after.createdAt;
      params.afterId = q.after.id;
    }
    const key = where.join(' AND ');
    let stmt = searches.get(key);
    if (!stmt) {
      stmt = db.prepare(`SELECT ${COLUMNS} FROM users ${key ? `WHERE ${key}` : ''} ORDER BY created_at, id LIMIT @limit`);
      searches.set(key, stmt);
    }
    return stmt.all(params);
  }

  const changeEmail = db.transaction(
    (id: string, email: string, canonical: string, verifiedAt: number | null): 'ok' | 'missing' | 'taken' => {
      if (!byId.get(id)) return 'missing';
      const h = holder.get(canonical);
      if (h && h.id !== id) return 'taken';
      setEmail.run(email, canonical, verifiedAt, id);
      return 'ok';
    },
  );

  return {
    async createUser(user) {
      return insert.run({ ...user, isAdmin: user.admin ? 1 : 0 }).changes === 1;
    },
    async searchUsers(q) {
      return search(q).map(toUser);
    },
    async setAdmin(id, admin) {
      return setAdmin.run(admin ? 1 : 0, id).changes === 1;
    },
    async getUserById(id) {
      const r = byId.get(id);
      return r ? toUser(r) : null;
    },
    async getUserByEmail(emailCanonical) {
      const r = byEmail.get(emailCanonical);
      return r ? toUser(r) : null;
    },
    async listUsers({ limit, after }) {
      const rows = after === undefined ? first.all(limit) : next.all(after, limit);
      return rows.map(toUser);
    },
    async setPasswordHash(id, passwordHash) {
      return setPassword.get(passwordHash, id)?.credential_version ?? null;
    },
    async rehashPassword(id, expected, passwordHash) {
      return rehash.run(passwordHash, id, expected).changes === 1;
    },
    async setDisabled(id, disabledAt) {
      return setDisabled.run(disabledAt, id).changes === 1;
    },
    async markEmailVerified(id, at) {
      return setVerified.run(at, id).changes === 1;
    },
    async changeEmail(id, email, emailCanonical, verifiedAt) {
      return changeEmail.immediate(id, email, emailCanonical, verifiedAt);
    },
    async deleteUser(id) {
      return remove.run(id).changes === 1;
    },
  };
}
