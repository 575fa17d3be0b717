/** Linked identity-provider accounts and the sessions opened through them, in process memory. */
import type { FederatedSessionRecord, IdentityRecord, IdentityStore } from '../../ports.js';
import { clone } from './copy.js';

const key = (provider: string, subject: string) => `${provider}\u0000${subject}`;

export function createMemoryIdentityStore(): IdentityStore {
  const rows = new Map<string, IdentityRecord>();
  /** provider + subject → identity id */
  const bySubject = new Map<string, string>();
  const fed = new Map<string, FederatedSessionRecord>();
  const mine = (userId: string) => [...rows.values()].filter((r) => r.userId === userId);
  return {
    async createIdentity(rec) {
      if (bySubject.has(key(rec.provider, rec.subject)) || rows.has(rec.id)) return 'taken';
      if (mine(rec.userId).some((r) => r.provider === rec.provider)) return 'taken';
      rows.set(rec.id, clone(rec));
      bySubject.set(key(rec.provider, rec.subject), rec.id);
      return 'ok';
    },
    async getIdentity(provider, subject) {
      const id = bySubject.get(key(provider, subject));
      return id ? clone(rows.get(id)!) : null;
    },
    async listIdentities(userId) {
      return mine(userId)
        .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1))
        .map(clone);
    },
    async recordIdentityUse(id, at, email, emailVerified) {
      const r = rows.get(id);
      if (!r) return false;
      r.lastUsedAt = at;
      r.email = email;
      r.emailVerified = emailVerified;
      return true;
    },
    async deleteIdentity(userId, id, unlessLast) {
      const r = rows.get(id);
      if (!r || r.userId !== userId) return 'missing';
      if (unlessLast && mine(userId).length <= 1) return 'last';
      rows.delete(id);
      bySubject.delete(key(r.provider, r.subject));
      return 'ok';
    },
    async deleteIdentitiesByUser(userId) {
      const list = mine(userId);
      for (const r of list) {
        rows.delete(r.id);
        bySubject.delete(key(r.provider, r.subject));
      }
      for (const [id, f] of fed) if (f.userId === userId) fed.delete(id);
      return list.length;
    },
    async putFederatedSession(rec) {
      fed.set(rec.sessionId, clone(rec));
    },
    async listFederatedSessions(userId) {
      return [...fed.values()].filter((f) => f.userId === userId).map(clone);
    },
    async findFederatedSessions(provider, by) {
      return [...fed.values()].filter((f) => f.provider === provider && ('sid' in by ? f.sid === by.sid : f.subject === by.subject)).map(clone);
    },
    async deleteExpiredFederatedSessions(now) {
      let n = 0;
      for (const [id, f] of fed) if (now >= f.expiresAt && fed.delete(id)) n++;
      return n;
    },
  };
}
