/**
 * The users row of the SQL stores: one column list and one mapping. The stores differ only in how
 * the driver hands back the admin flag (SQLite and MySQL: 0/1, PostgreSQL: a boolean).
 */
import type { UserRecord } from '../../ports.js';

export type UserRow = {
  id: string;
  email: string;
  email_canonical: string;
  password_hash: string;
  created_at: number;
  disabled_at: number | null;
  email_verified_at: number | null;
  credential_version: number;
  is_admin: number | boolean;
};

export const USER_COLUMNS = 'id, email, email_canonical, password_hash, created_at, disabled_at, email_verified_at, credential_version, is_admin';

export function toUser(r: UserRow): UserRecord {
  return {
    id: r.id,
    email: r.email,
    emailCanonical: r.email_canonical,
    passwordHash: r.password_hash,
    createdAt: r.created_at,
    disabledAt: r.disabled_at,
    emailVerifiedAt: r.email_verified_at,
    credentialVersion: r.credential_version,
    // 0/1 on SQLite and MySQL (mysql2 may hand a TINYINT back as a string in some modes), a boolean on PostgreSQL.
    admin: r.is_admin === true || Number(r.is_admin) === 1,
  };
}

/** A LIKE pattern matching strings that start with `s` literally (`ESCAPE '!'`). */
export function likePrefix(s: string): string {
  return s.replace(/[!%_]/g, (c) => '!' + c) + '%';
}
