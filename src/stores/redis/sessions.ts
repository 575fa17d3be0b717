import type { SessionData, SessionRecord, SessionStore } from '../../ports.js';
import { decodeSession, encodeSession } from './codec.js';
import { guard, type RedisClient } from './client.js';
import type { Keys } from './keys.js';
import type { Scripts } from './commands.js';

/**
 * Sessions on Redis. Each user has one hash `{uid}` of sid -> encoded session: it is both the
 * record store and the exact per-user index (a field exists iff the session exists), so no
 * separate index can drift. A pointer `x:sid -> uid` (written first, expiring with the session)
 * lets `getSession(id)` find the user's slot from the id alone.
 */
export function redisSessionStore(r: RedisClient, k: Keys, s: Scripts): SessionStore {
  const uidOf = async (id: string): Promise<string | null> => r.get(k.ptr(id));

  return {
    createSession: (sess, { maxPerUser }) =>
      guard(async () => {
        await r.set(k.ptr(sess.id), sess.userId, 'PXAT', sess.expiresAt);
        const out = (await s.createSessionBuffer(
          k.user(sess.userId), sess.id, encodeSession(sess), maxPerUser, sess.createdAt, sess.mode === 'token' ? 't' : 's',
          k.dataPrefix(sess.userId),
        )) as Buffer[];
        const evicted: SessionRecord[] = [];
        for (let i = 0; i < out.length; i += 2) evicted.push(decodeSession(out[i]!.toString(), sess.userId, out[i + 1]!));
        return evicted.reverse();
      }),
    getSession: (id, now) =>
      guard(async () => {
        const uid = await uidOf(id);
        if (uid === null) return null;
        const v = await r.hgetBuffer(k.user(uid), id);
        if (!v) return null;
        const sess = decodeSession(id, uid, v);
        return sess.idleExpiresAt > now && sess.expiresAt > now ? sess : null;
      }),
    touchSession: (id, lastSeenAt, idleExpiresAt) =>
      guard(async () => {
        const uid = await uidOf(id);
        if (uid === null) return false;
        return (await s.touchSession(k.user(uid), id, lastSeenAt, idleExpiresAt, k.dataPrefix(uid))) === 1;
      }),
    setSessionAuthAt: (id, authAt) =>
      guard(async () => {
        const uid = await uidOf(id);
        if (uid === null) return false;
        return (await s.setAuthAt(k.user(uid), id, authAt)) === 1;
      }),
    listSessionsByUser: (userId, now) =>
      guard(async () => {
        const all = await r.hgetallBuffer(k.user(userId));
        const out: SessionRecord[] = [];
        for (const [id, v] of Object.entries(all)) {
          const sess = decodeSession(id, userId, v);
          if (sess.idleExpiresAt > now && sess.expiresAt > now) out.push(sess);
        }
        return out.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      }),
    deleteSession: (id) =>
      guard(async () => {
        const uid = await uidOf(id);
        if (uid === null) return null;
        // The pointer stays until the session's absolute expiry: refresh tokens of this session
        // may still need it to be found and deleted.
        const v = (await s.deleteSessionBuffer(k.user(uid), id, k.dataPrefix(uid))) as Buffer | null;
        return v ? decodeSession(id, uid, v) : null;
      }),
    deleteUserSessions: (userId, exceptId) =>
      guard(async () => (await s.deleteUserSessions(k.user(userId), exceptId ?? '', k.dataPrefix(userId))) as string[]),
    // Expiry is by PEXPIREAT on each user's hash, and expired fields are pruned on the next login.
    deleteExpiredSessions: async () => 0,
    getSessionData: (id) =>
      guard(async () => {
        const uid = await uidOf(id);
        if (uid === null) return null;
        const pairs = (await s.getData(k.user(uid), k.data(uid, id), id)) as string[] | null;
        if (!pairs) return null;
        const data: SessionData = {};
        for (let i = 0; i < pairs.length; i += 2) data[JSON.parse(pairs[i]!) as string] = JSON.parse(pairs[i + 1]!);
        return data;
      }),
    patchSessionData: (id, patch, maxBytes) =>
      guard(async () => {
        const uid = await uidOf(id);
        if (uid === null) return 'missing' as const;
        const args: (string | number)[] = [id, maxBytes, Object.keys(patch.set).length];
        for (const [key, v] of Object.entries(patch.set)) args.push(JSON.stringify(key), JSON.stringify(v));
        for (const key of patch.unset) args.push(JSON.stringify(key));
        return (await s.patchData(k.user(uid), k.data(uid, id), ...args)) as 'ok' | 'missing' | 'too_large';
      }),
  };
}
