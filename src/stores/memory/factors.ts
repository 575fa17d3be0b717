/** Second factors, passkeys and pending challenges in process memory. */
import type { ChallengeRecord, ChallengeStore, PasskeyRecord, PasskeyStore, RecoveryCodeStore, TotpRecord, TotpStore } from '../../ports.js';
import { clone, IdIndex } from './copy.js';

const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

export function createMemoryTotpStore(): TotpStore {
  const rows = new Map<string, TotpRecord>();
  return {
    async putPendingTotp(rec) {
      const cur = rows.get(rec.userId);
      if (cur && cur.confirmedAt !== null) return false;
      rows.set(rec.userId, clone({ ...rec, confirmedAt: null }));
      return true;
    },
    async getTotp(userId) {
      const r = rows.get(userId);
      return r ? clone(r) : null;
    },
    async confirmTotp(userId, at, step) {
      const r = rows.get(userId);
      if (!r || r.confirmedAt !== null) return false;
      r.confirmedAt = at;
      r.lastStep = step;
      return true;
    },
    async useTotpStep(userId, step) {
      const r = rows.get(userId);
      if (!r || r.confirmedAt === null || (r.lastStep !== null && r.lastStep >= step)) return false;
      r.lastStep = step;
      return true;
    },
    async deleteTotp(userId) {
      return rows.delete(userId);
    },
  };
}

export function createMemoryRecoveryCodeStore(): RecoveryCodeStore {
  /** user id → unused code hashes (hex). */
  const codes = new Map<string, Set<string>>();
  return {
    async replaceRecoveryCodes(userId, hashes) {
      codes.set(userId, new Set(hashes.map(hex)));
    },
    async useRecoveryCode(userId, hash) {
      const set = codes.get(userId);
      return set ? set.delete(hex(hash)) : false;
    },
    async countRecoveryCodes(userId) {
      return codes.get(userId)?.size ?? 0;
    },
    async deleteRecoveryCodes(userId) {
      const n = codes.get(userId)?.size ?? 0;
      codes.delete(userId);
      return n;
    },
  };
}

export function createMemoryPasskeyStore(): PasskeyStore {
  const rows = new Map<string, PasskeyRecord>();
  const byUser = new IdIndex();
  const mine = (userId: string, id: string) => {
    const r = rows.get(id);
    return r && r.userId === userId ? r : null;
  };
  return {
    async createPasskey(rec) {
      if (rows.has(rec.id)) return false;
      rows.set(rec.id, clone(rec));
      byUser.add(rec.userId, rec.id);
      return true;
    },
    async getPasskey(id) {
      const r = rows.get(id);
      return r ? clone(r) : null;
    },
    async listPasskeys(userId) {
      return byUser
        .get(userId)
        .map((id) => rows.get(id)!)
        .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1))
        .map(clone);
    },
    async recordPasskeyUse(id, expected, counter, at) {
      const r = rows.get(id);
      if (!r || r.counter !== expected) return false;
      r.counter = counter;
      r.lastUsedAt = at;
      return true;
    },
    async renamePasskey(userId, id, name) {
      const r = mine(userId, id);
      if (!r) return false;
      r.name = name;
      return true;
    },
    async deletePasskey(userId, id) {
      if (!mine(userId, id)) return false;
      rows.delete(id);
      byUser.remove(userId, id);
      return true;
    },
    async deletePasskeysByUser(userId) {
      const ids = byUser.get(userId);
      for (const id of ids) {
        rows.delete(id);
        byUser.remove(userId, id);
      }
      return ids.length;
    },
  };
}

export function createMemoryChallengeStore(): ChallengeStore {
  const rows = new Map<string, ChallengeRecord>();
  const live = (r: ChallengeRecord | undefined, now: number): r is ChallengeRecord => !!r && r.usedAt === null && now < r.expiresAt;
  return {
    async createChallenge(rec) {
      rows.set(rec.id, clone(rec));
    },
    async getChallenge(id) {
      const r = rows.get(id);
      return r ? clone(r) : null;
    },
    async consumeChallenge(id, now) {
      const r = rows.get(id);
      if (!live(r, now)) return false;
      r.usedAt = now;
      return true;
    },
    async failChallenge(id, maxFailures, now) {
      const r = rows.get(id);
      if (!live(r, now)) return null;
      r.failures += 1;
      if (r.failures >= maxFailures) r.usedAt = now;
      return r.failures;
    },
    async deleteChallengesByUser(userId) {
      let n = 0;
      for (const [id, r] of rows) if (r.userId === userId && rows.delete(id)) n++;
      return n;
    },
    async deleteExpiredChallenges(now) {
      let n = 0;
      for (const [id, r] of rows) if (now >= r.expiresAt && rows.delete(id)) n++;
      return n;
    },
  };
}
