import type { ProofMarkKind, ProofMarkStore } from '../../ports.js';

/** Proof marks in process memory: replay detection and challenges hold for this process only. */
export function createMemoryProofStore(): ProofMarkStore {
  const marks = new Map<string, number>();
  const key = (kind: ProofMarkKind, value: string) => `${kind}:${value}`;
  const live = (k: string, now: number) => {
    const exp = marks.get(k);
    if (exp === undefined) return false;
    if (now >= exp) {
      marks.delete(k);
      return false;
    }
    return true;
  };
  return {
    async putProofMark(kind, value, expiresAt, now) {
      const k = key(kind, value);
      if (live(k, now)) return false;
      marks.set(k, expiresAt);
      return true;
    },
    async hasProofMark(kind, value, now) {
      return live(key(kind, value), now);
    },
    async takeProofMark(kind, value, now) {
      const k = key(kind, value);
      if (!live(k, now)) return false;
      marks.delete(k);
      return true;
    },
    async deleteExpiredProofMarks(now) {
      let n = 0;
      for (const [k, exp] of marks) {
        if (now >= exp) {
          marks.delete(k);
          n++;
        }
      }
      return n;
    },
  };
}
