import type { ProofMarkStore } from '../../ports.js';
import { guard, type RedisClient } from './client.js';
import type { Keys } from './keys.js';

/**
 * Proof marks on Redis: one key per mark with a TTL (relative, so the core's clock and Redis's
 * agree on how long a mark lives whatever their offset). SET NX and DEL decide atomically which of
 * concurrent callers wins, on every instance that shares the Redis.
 */
export function createRedisProofStore(r: RedisClient, k: Keys): ProofMarkStore {
  const ttl = (expiresAt: number, now: number) => Math.max(1, Math.ceil(expiresAt - now));
  return {
    putProofMark: (kind, value, expiresAt, now) =>
      guard(async () => (await r.set(k.proof(kind, value), '1', 'PX', ttl(expiresAt, now), 'NX')) === 'OK'),
    hasProofMark: (kind, value) => guard(async () => (await r.exists(k.proof(kind, value))) === 1),
    takeProofMark: (kind, value) => guard(async () => (await r.del(k.proof(kind, value))) === 1),
    // Marks expire by TTL.
    deleteExpiredProofMarks: async () => 0,
  };
}
