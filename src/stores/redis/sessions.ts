import type { SessionData, SessionRecord, SessionStore } from '../../ports.js';
import { localPartOf, ownerOf, RANDOM_ID_LENGTH } from '../../ids.js';
import { decodeSession, encAmr, encBinding, encodeSession, t36 } from './codec.js';
import type { Cluster, Redis } from 'ioredis';
import { guard, type RedisClient } from './client.js';
import type { Keys } from './keys.js';
import type { Scripts } from './commands.js';

/**
 * Sessions on Redis. Each user has one hash `{uid}` of session -> encoded session: it is both the
 * record store and the exact per-user index (a field exists iff the session exists), so no
 * separate index can drift. Session ids name their user (src/ids.ts), so `getSession(id)` finds
 * the user's hash from the id alone; the field is the id's 22-character random part.
 */
export function createRedisSessionStore(r: RedisClient, k: Keys, s: Scripts): SessionStore {
  /** The user's hash and the field of a session id, or null for an id that names no user. */
  const at = (id: string): { uid: string; f: string } | null => {
    const uid = ownerOf(id);
    return uid === null ? null : { uid, f: id.slice(0, RANDOM_ID_LENGTH) };
  };
  const dataKey = (uid: string, f: string) => k.data(uid, f);

  return {
    createSession: (sess, { maxPerUser }) => {
      const f = localPartOf(sess.id, sess.userId);
      // A programming error, not an outage: rejected outside guard() so it is not turned into a 503.
      if (f === null) return Promise.reject(new TypeError('Redis session store: a session id must name its user (src/ids.ts)'));
      return guard(async () => {
        const out = (await s.createSessionBuffer(
          k.user(sess.userId), f, encodeSession(sess), maxPerUser, sess.createdAt, sess.mode === 'token' ? 't' : 's',
          k.dataPrefix(sess.userId),
        )) as Buffer[];
        const evicted: SessionRecord[] = [];
        for (let i = 0; i < out.length; i += 2) evicted.push(decodeSession(out[i]!.toString() + sess.userId, sess.userId, out[i + 1]!));
        return evicted.reverse();
      });
    },
    getSession: (id, now) =>
      guard(async () => {
        const a = at(id);
        if (a === null) return null;
        const v = await r.hgetBuffer(k.user(a.uid), a.f);
        if (!v) return null;
        const sess = decodeSession(id, a.uid, v);
        return sess.idleExpiresAt > now && sess.expiresAt > now ? sess : null;
      }),
    touchSession: (id, lastSeenAt, idleExpiresAt) =>
      guard(async () => {
        const a = at(id);
        if (a === null) return false;
        return (await s.touchSession(k.user(a.uid), a.f, lastSeenAt, idleExpiresAt, k.dataPrefix(a.uid))) === 1;
      }),
    setSessionAuth: (id, auth) =>
      guard(async () => {
        const a = at(id);
        if (a === null) return false;
        const cv = auth.credentialVersion === 0 ? '' : t36(auth.credentialVersion);
        return (await s.setAuth(k.user(a.uid), a.f, auth.authAt, encAmr(auth.amr), auth.acr === 'aal2' ? '2' : '', cv)) === 1;
      }),
    bindSession: (id, binding) =>
      guard(async () => {
        const a = at(id);
        if (a === null) return 'missing' as const;
        return (await s.bindSession(k.user(a.uid), a.f, encBinding(binding))) as 'ok' | 'bound' | 'missing';
      }),
    listSessionsByUser: (userId, now) =>
      guard(async () => {
        const all = await r.hgetallBuffer(k.user(userId));
        const out: SessionRecord[] = [];
        for (const [f, v] of Object.entries(all)) {
          const sess = decodeSession(f + userId, userId, v);
          if (sess.idleExpiresAt > now && sess.expiresAt > now) out.push(sess);
        }
        return out.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      }),
    deleteSession: (id) =>
      guard(async () => {
        const a = at(id);
        if (a === null) return null;
        const v = (await s.deleteSessionBuffer(k.user(a.uid), a.f, k.dataPrefix(a.uid))) as Buffer | null;
        return v ? decodeSession(id, a.uid, v) : null;
      }),
    deleteUserSessions: (userId, exceptId) =>
      guard(async () => {
        const except = exceptId === undefined ? '' : (localPartOf(exceptId, userId) ?? '');
        const fields = (await s.deleteUserSessions(k.user(userId), except, k.dataPrefix(userId))) as string[];
        return fields.map((f) => f + userId);
      }),
    // Expiry is by PEXPIREAT on each user's hash, and expired fields are pruned on the next login.
    deleteExpiredSessions: async () => 0,
    // No global index exists (each user's hash is the index): a SCAN over the users' hashes on every
    // master, decoding each field. Sampled rarely by the metrics, never on a request.
    countLiveSessions: (now) =>
      guard(async () => {
        const out = { session: 0, token: 0 };
        const pattern = k.user('*').replace(/[?[\]\\]/g, (c) => `\\${c}`).replace(/\*(?=.*\*)/g, '\\*');
        const nodes: Redis[] = 'nodes' in r && typeof (r as Cluster).nodes === 'function' && (r as Cluster).isCluster ? (r as Cluster).nodes('master') : [r as Redis];
        for (const node of nodes) {
          let cursor = '0';
          do {
            const [next, found] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
            cursor = next;
            if (found.length === 0) continue;
            // One round-trip per SCAN batch (each key lives on the node that listed it): about half
            // the time of one HGETALL per user (bench/admin-counts.ts). Only mode and expiry are read.
            const pipe = node.pipeline();
            for (const key of found) pipe.hvalsBuffer(key);
            for (const [err, values] of (await pipe.exec()) ?? []) {
              if (err) throw err;
              for (const v of values as Buffer[]) {
                const sess = decodeSession('', '', v);
                if (sess.idleExpiresAt > now && sess.expiresAt > now) out[sess.mode] += 1;
              }
            }
          } while (cursor !== '0');
        }
        return out;
      }),
    getSessionData: (id) =>
      guard(async () => {
        const a = at(id);
        if (a === null) return null;
        const pairs = (await s.getData(k.user(a.uid), dataKey(a.uid, a.f), a.f)) as string[] | null;
        if (!pairs) return null;
        const data: SessionData = {};
        for (let i = 0; i < pairs.length; i += 2) data[JSON.parse(pairs[i]!) as string] = JSON.parse(pairs[i + 1]!);
        return data;
      }),
    patchSessionData: (id, patch, maxBytes) =>
      guard(async () => {
        const a = at(id);
        if (a === null) return 'missing' as const;
        const args: (string | number)[] = [a.f, maxBytes, Object.keys(patch.set).length];
        for (const [key, v] of Object.entries(patch.set)) args.push(JSON.stringify(key), JSON.stringify(v));
        for (const key of patch.unset) args.push(JSON.stringify(key));
        return (await s.patchData(k.user(a.uid), dataKey(a.uid, a.f), ...args)) as 'ok' | 'missing' | 'too_large';
      }),
  };
}
