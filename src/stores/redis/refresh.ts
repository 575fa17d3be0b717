import type { RefreshTokenStore } from '../../ports.js';
import { decodeRefresh, encodeRefresh, encodeSalt, esc } from './codec.js';
import { guard, type RedisClient } from './client.js';
import type { Keys } from './keys.js';
import type { Scripts } from './commands.js';

/**
 * Refresh tokens on Redis: one hash per user (`t:{uid}`), so rotation (spend the old token, insert
 * its successor) is one Lua script on one slot and concurrent rotations cannot fork the chain.
 * Pointers `x:<id> -> uid` find the user from a token id or a session id.
 */
export function redisRefreshTokenStore(r: RedisClient, k: Keys, s: Scripts): RefreshTokenStore {
  return {
    createRefreshToken: (t) =>
      guard(async () => {
        await r.set(k.ptr(t.id), t.userId, 'PXAT', t.expiresAt);
        // The session's pointer normally exists already; this covers a session held elsewhere.
        await r.set(k.ptr(t.sessionId), t.userId, 'PXAT', t.expiresAt, 'NX');
        await s.createRefresh(k.tokens(t.userId), t.id, encodeRefresh(t), t.createdAt);
      }),
    getRefreshToken: (id) =>
      guard(async () => {
        const uid = await r.get(k.ptr(id));
        if (uid === null) return null;
        const v = await r.hgetBuffer(k.tokens(uid), id);
        return v ? decodeRefresh(id, uid, v) : null;
      }),
    rotateRefreshToken: (id, successor, now, graceMs, successorSalt) =>
      guard(async () => {
        const uid = await r.get(k.ptr(id));
        if (uid === null) return { kind: 'missing' as const };
        // Pointer first: if the script then finds the token already spent, the pointer is harmless.
        await r.set(k.ptr(successor.id), successor.userId, 'PXAT', successor.expiresAt);
        const out = (await s.rotateRefreshBuffer(
          k.tokens(uid), id, now, graceMs, esc(successor.id), encodeSalt(successorSalt ?? null),
          encodeRefresh(successor), successor.id,
        )) as Buffer[];
        const kind = out[0]!.toString() as 'rotated' | 'grace' | 'reused' | 'missing';
        if (kind === 'missing') return { kind };
        return { kind, token: decodeRefresh(id, uid, out[1]!) };
      }),
    deleteRefreshTokensBySession: (sessionId) =>
      guard(async () => {
        const uid = await r.get(k.ptr(sessionId));
        if (uid === null) return 0;
        return (await s.deleteRefreshBySession(k.tokens(uid), esc(sessionId))) as number;
      }),
    deleteRefreshTokensByUser: (userId) => guard(async () => (await s.deleteRefreshByUser(k.tokens(userId))) as number),
    // Expiry is by PEXPIREAT on the user's token hash; expired entries are pruned on the next insert.
    deleteExpiredRefreshTokens: async () => 0,
  };
}
