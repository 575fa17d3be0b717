import type { OneTimeTokenRecord, OneTimeTokenStore } from '../../ports.js';
import { clone, IdIndex } from './copy.js';

export function createMemoryOneTimeStore(): OneTimeTokenStore {
  const tokens = new Map<string, OneTimeTokenRecord>();
  const byUser = new IdIndex();

  function remove(t: OneTimeTokenRecord): void {
    tokens.delete(t.id);
    byUser.remove(t.userId, t.id);
  }

  return {
    async createOneTimeToken(token) {
      tokens.set(token.id, clone(token));
      byUser.add(token.userId, token.id);
    },
    async getOneTimeToken(id) {
      const t = tokens.get(id);
      return t ? clone(t) : null;
    },
    async consumeOneTimeToken(id, now) {
      const t = tokens.get(id);
      if (!t || t.usedAt !== null || now >= t.expiresAt) return false;
      t.usedAt = now;
      return true;
    },
    async deleteOneTimeTokensByUser(userId, purpose) {
      let n = 0;
      for (const id of byUser.get(userId)) {
        const t = tokens.get(id)!;
        if (purpose !== undefined && t.purpose !== purpose) continue;
        remove(t);
        n++;
      }
      return n;
    },
    async deleteExpiredOneTimeTokens(now) {
      let n = 0;
      for (const t of tokens.values()) {
        if (now >= t.expiresAt) {
          remove(t);
          n++;
        }
      }
      return n;
    },
  };
}
