import type { RefreshTokenRecord, RefreshTokenStore } from '../../ports.js';
import { localPartOf, ownerOf, RANDOM_ID_LENGTH } from '../../ids.js';
import { decodeRefresh, encodeRefresh, encodeSalt, esc } from './codec.js';
import { guard, type RedisClient } from './client.js';
import type { Keys } from './keys.js';
import type { Scripts } from './commands.js';

/**
 * Refresh tokens on Redis: one hash per user (`t:{uid}`), so rotation (spend the old token, insert
 * its successor) is one Lua script on one slot and concurrent rotations cannot fork the chain.
 * Token and session ids name their user (src/ids.ts): the user's hash is found from the id alone,
 * and inside it ids are kept as their 22-character random part.
 */
export function createRedisRefreshStore(r: RedisClient, k: Keys, s: Scripts): RefreshTokenStore {
  const local = (id: string, uid: string): string => {
    const f = localPartOf(id, uid);
    if (f === null) throw new TypeError('Redis refresh-token store: ids must name the token\'s user (src/ids.ts)');
    return f;
  };
  /** The record as stored: ids by their random part. */
  const stored = (t: RefreshTokenRecord): RefreshTokenRecord => ({
    ...t,
    id: local(t.id, t.userId),
    sessionId: local(t.sessionId, t.userId),
    successorId: t.successorId === null ? null : local(t.successorId, t.userId),
  });
  const decode = (id: string, uid: string, v: Buffer): RefreshTokenRecord => {
    const t = decodeRefresh(id, uid, v);
    return { ...t, sessionId: t.sessionId + uid, successorId: t.successorId === null ? null : t.successorId + uid };
  };
  const at = (id: string): { uid: string; f: string } | null => {
    const uid = ownerOf(id);
    return uid === null ? null : { uid, f: id.slice(0, RANDOM_ID_LENGTH) };
  };

  /**
   * Runs `op` on the stored form of `t`. Ids that do not name the token's user are a programming
   * error, rejected outside guard() so that they are not turned into a 503.
   */
  const withStored = <R>(t: RefreshTokenRecord, op: (rec: RefreshTokenRecord) => Promise<R>): Promise<R> => {
    let rec: RefreshTokenRecord;
    try {
      rec = stored(t);
    } catch (e) {
      return Promise.reject(e);
    }
    return guard(() => op(rec));
  };

  return {
    createRefreshToken: (t) =>
      withStored(t, async (rec) => {
        await s.createRefresh(k.tokens(t.userId), rec.id, encodeRefresh(rec), t.createdAt);
      }),
    getRefreshToken: (id) =>
      guard(async () => {
        const a = at(id);
        if (a === null) return null;
        const v = await r.hgetBuffer(k.tokens(a.uid), a.f);
        return v ? decode(id, a.uid, v) : null;
      }),
    rotateRefreshToken: (id, successor, now, graceMs, successorSalt) => {
      const a = at(id);
      if (a === null || a.uid !== successor.userId) return Promise.resolve({ kind: 'missing' as const });
      return withStored(successor, async (next) => {
        const out = (await s.rotateRefreshBuffer(
          k.tokens(a.uid), a.f, now, graceMs, esc(next.id), encodeSalt(successorSalt ?? null),
          encodeRefresh(next), next.id,
        )) as Buffer[];
        const kind = out[0]!.toString() as 'rotated' | 'grace' | 'reused' | 'missing';
        if (kind === 'missing') return { kind };
        return { kind, token: decode(id, a.uid, out[1]!) };
      });
    },
    deleteRefreshTokensBySession: (sessionId) =>
      guard(async () => {
        const a = at(sessionId);
        if (a === null) return 0;
        return (await s.deleteRefreshBySession(k.tokens(a.uid), esc(a.f))) as number;
      }),
    deleteRefreshTokensByUser: (userId) => guard(async () => (await s.deleteRefreshByUser(k.tokens(userId))) as number),
    // Expiry is by PEXPIREAT on the user's token hash; expired entries are pruned on the next insert.
    deleteExpiredRefreshTokens: async () => 0,
  };
}
