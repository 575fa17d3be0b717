import type { UserRecord, UserSearchQuery, UserStore } from '../../ports.js';
import { clone } from './copy.js';

const byCreation = (a: UserRecord, b: UserRecord) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

function matches(u: UserRecord, q: UserSearchQuery): boolean {
  if (q.emailPrefix !== undefined && !u.emailCanonical.startsWith(q.emailPrefix)) return false;
  if (q.createdFrom !== undefined && u.createdAt < q.createdFrom) return false;
  if (q.createdTo !== undefined && u.createdAt >= q.createdTo) return false;
  if (q.status === 'disabled' && u.disabledAt === null) return false;
  if (q.status === 'active' && (u.disabledAt !== null || u.emailVerifiedAt === null)) return false;
  if (q.status === 'unverified' && (u.disabledAt !== null || u.emailVerifiedAt !== null)) return false;
  const a = q.after;
  if (a !== undefined && byCreation(u, { createdAt: a.createdAt, id: a.id } as UserRecord) <= 0) return false;
  return true;
}

export function createMemoryUserStore(): UserStore {
  const users = new Map<string, UserRecord>();
  const byEmail = new Map<string, string>();

  function update(id: string, change: Partial<UserRecord>): boolean {
    const u = users.get(id);
    if (!u) return false;
    Object.assign(u, change);
    return true;
  }

  return {
    async createUser(user) {
      if (byEmail.has(user.emailCanonical) || users.has(user.id)) return false;
      users.set(user.id, clone(user));
      byEmail.set(user.emailCanonical, user.id);
      return true;
    },
    async getUserById(id) {
      const u = users.get(id);
      return u ? clone(u) : null;
    },
    async getUserByEmail(emailCanonical) {
      const id = byEmail.get(emailCanonical);
      return id === undefined ? null : clone(users.get(id) ?? null);
    },
    async listUsers({ limit, after }) {
      const all = [...users.values()].sort(byCreation);
      let start = 0;
      if (after !== undefined) {
        const cursor = users.get(after);
        // A cursor user deleted between pages ends the listing, as in the SQL stores.
        if (!cursor) return [];
        start = all.findIndex((u) => byCreation(u, cursor) > 0);
        if (start < 0) return [];
      }
      return all.slice(start, start + limit).map(clone);
    },
    async searchUsers(q) {
      return [...users.values()].filter((u) => matches(u, q)).sort(byCreation).slice(0, q.limit).map(clone);
    },
    async setAdmin(id, admin) {
      return update(id, { admin });
    },
    async setPasswordHash(id, passwordHash) {
      const u = users.get(id);
      if (!u) return null;
      u.passwordHash = passwordHash;
      u.credentialVersion += 1;
      return u.credentialVersion;
    },
    async rehashPassword(id, expected, passwordHash) {
      const u = users.get(id);
      if (!u || u.passwordHash !== expected) return false;
      u.passwordHash = passwordHash;
      return true;
    },
    async setDisabled(id, disabledAt) {
      const u = users.get(id);
      return update(id, { disabledAt, credentialVersion: (u?.credentialVersion ?? 0) + 1 });
    },
    async markEmailVerified(id, at) {
      return update(id, { emailVerifiedAt: at });
    },
    async changeEmail(id, email, emailCanonical, verifiedAt) {
      const u = users.get(id);
      if (!u) return 'missing';
      const holder = byEmail.get(emailCanonical);
      if (holder !== undefined && holder !== id) return 'taken';
      byEmail.delete(u.emailCanonical);
      byEmail.set(emailCanonical, id);
      Object.assign(u, { email, emailCanonical, emailVerifiedAt: verifiedAt });
      return 'ok';
    },
    async deleteUser(id) {
      const u = users.get(id);
      if (!u) return false;
      users.delete(id);
      byEmail.delete(u.emailCanonical);
      return true;
    },
  };
}
