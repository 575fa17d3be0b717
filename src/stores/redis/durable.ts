/**
 * The Redis stores with revocations confirmed by replicas (see acks.ts).
 *
 * A revocation is durable once two things are on a replica: the session is gone from its user's hash
 * (or the session, once forgotten by the revocation set, would validate again after a failover), and
 * the feed's log holds the `sessions.revoked` event (or an instance that replays the log after the
 * failover, or starts later, would accept the session's access tokens until they expire). So:
 *
 *   - deleteSession, deleteUserSessions, and createSession when it evicted sessions: a barrier on the
 *     user's slot — also when nothing was deleted, since an earlier attempt may have deleted it
 *     without confirmation;
 *   - publish: a barrier on the feed log's slot.
 *
 * Refresh tokens need none: a refresh is refused unless its session is live, so a refresh token that
 * comes back without its session is worthless. Logins, renewals and rotations are not confirmed: a
 * failover may lose the last moment of them (the client signs in again), never a revocation.
 * On one server (and behind Sentinel) every key lives on the same master, so every barrier uses one
 * key and concurrent revocations share barriers.
 */
import type { ChangeFeed, SessionStore } from '../../ports.js';
import { ownerOf } from '../../ids.js';
import type { ReplicaAcks } from './acks.js';

export interface BarrierKeys {
  /** A key in the slot of the user's session hash. */
  user(uid: string): string;
  /** A key in the slot of the feed's log. */
  feed: string;
}

/** `prefix` carries no braces (checked at open), so each key's only hash tag is the one given here. */
export function barrierKeys(prefix: string, feedLog: string, oneNode: boolean): BarrierKeys {
  const feed = `${prefix}w:{${feedLog}}`;
  return { user: oneNode ? () => feed : (uid) => `${prefix}w:{${uid}}`, feed };
}

/**
 * `announce` publishes a revocation without waiting for it to be confirmed: when the confirmation
 * fails, the sessions are already gone from the master, and the caller (answering 503) will not get
 * to publish them. Every instance then refuses them at once all the same — a retry may well find
 * them gone and answer 401 or 404 — and only a failover before the replica catches up could bring
 * them back; the client was not told they are gone.
 */
export function confirmedSessions(inner: SessionStore, acks: ReplicaAcks, k: BarrierKeys, announce: (ids: string[]) => Promise<void>): SessionStore {
  const confirm = async (uid: string, deleted: string[]) => {
    try {
      await acks.confirm(k.user(uid));
    } catch (e) {
      if (deleted.length > 0) await announce(deleted).catch(() => {});
      throw e;
    }
  };
  return {
    ...inner,
    async createSession(session, opts) {
      const evicted = await inner.createSession(session, opts);
      if (evicted.length > 0) await confirm(session.userId, evicted.map((s) => s.id));
      return evicted;
    },
    async deleteSession(id) {
      const deleted = await inner.deleteSession(id);
      const uid = ownerOf(id);
      if (uid !== null) await confirm(uid, deleted ? [id] : []);
      return deleted;
    },
    async deleteUserSessions(userId, exceptId) {
      const ids = await inner.deleteUserSessions(userId, exceptId);
      await confirm(userId, ids);
      return ids;
    },
  };
}

export function confirmedFeed(inner: ChangeFeed, acks: ReplicaAcks, k: BarrierKeys): ChangeFeed {
  return {
    async publish(e) {
      await inner.publish(e);
      await acks.confirm(k.feed);
    },
    subscribe: (h) => inner.subscribe(h),
    replay: (since) => inner.replay(since),
    get connected() {
      return inner.connected;
    },
    get retentionMs() {
      return inner.retentionMs;
    },
    close: () => inner.close(),
  };
}
