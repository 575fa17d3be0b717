import type { RefreshTokenRecord, RefreshTokenStore } from '../../ports.js';
import { clone, IdIndex } from './copy.js';

export function createMemoryRefreshStore(): RefreshTokenStore {
  const tokens = new Map<string, RefreshTokenRecord>();
  const bySession = new IdIndex();
  const byUser = new IdIndex();

  function insert(t: RefreshTokenRecord): void {
    tokens.set(t.id, clone(t));
    bySession.add(t.sessionId, t.id);
    byUser.add(t.userId, t.id);
  }

  function remove(ids: string[]): number {
    let n = 0;
    for (const id of ids) {
      const t = tokens.get(id);
      if (!t) continue;
      tokens.delete(id);
      bySession.remove(t.sessionId, id);
      byUser.remove(t.userId, id);
      n++;
    }
    return n;
  }

  return {
    async createRefreshToken(token) {
      insert(token);
    },
    async getRefreshToken(id) {
      const t = tokens.get(id);
      return t ? clone(t) : null;
    },
    // Single-threaded and synchronous between awaits, so check-and-spend is atomic here.
    async rotateRefreshToken(id, successor, now, graceMs, successorSalt = null) {
      const t = tokens.get(id);
      if (!t) return { kind: 'missing' };
      if (t.spentAt === null) {
        t.spentAt = now;
        t.successorId = successor.id;
        t.successorSalt = successorSalt ? new Uint8Array(successorSalt) : null;
        insert(successor);
        return { kind: 'rotated', token: clone(t) };
      }
      return { kind: now - t.spentAt <= graceMs ? 'grace' : 'reused', token: clone(t) };
    },
    async deleteRefreshTokensBySession(sessionId) {
      return remove(bySession.get(sessionId));
    },
    async deleteRefreshTokensByUser(userId) {
      return remove(byUser.get(userId));
    },
    async deleteExpiredRefreshTokens(now) {
      return remove([...tokens.values()].filter((t) => now >= t.expiresAt).map((t) => t.id));
    },
  };
}
