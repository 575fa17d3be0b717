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
 *
 * When a confirmation fails the request gets 503, but the revocation may be half done: the sessions
 * gone from the master but not yet on a replica, or gone but not announced on the feed (a retry may
 * then find them gone and answer 401 or 404, while other instances still accept their access
 * tokens). So such a revocation is not left to the client: the deleted sessions are announced at
 * once (best effort), and this process deletes them again, waits for a replica and publishes the
 * event again, every second, until each step is confirmed — after a failover that lost the delete
 * the promoted master gets it again, and an event the dead master never logged is logged. Only the
 * loss of this process as well, before it succeeds, leaves such a revocation to the client's retry.
 */
import type { ChangeEvent, ChangeFeed, SessionStore } from '../../ports.js';
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

/** Beyond this many pending session ids (or events), the oldest are given up (and counted). */
const MAX_PENDING = 100_000;
const RETRY_MS = 1000;

/**
 * Revocations answered 503, re-applied by this process until a replica has them: sessions whose
 * deletion was not confirmed are deleted again and confirmed, then announced; events whose
 * publication failed or was not confirmed are published again (with the time of the new attempt, so
 * that every reader's replay and sweep window covers them) and confirmed.
 */
export class RevocationRepairs {
  private readonly deletes = new Map<string, Set<string>>(); // user id → session ids
  private deleteCount = 0;
  private readonly events: ChangeEvent[] = [];
  /** "Every session of the user (but one) that existed at `before`": a failed deleteUserSessions. */
  private readonly userDeletes: { uid: string; exceptId: string | undefined; before: number }[] = [];
  private running: Promise<void> | null = null;
  private readonly timer: NodeJS.Timeout;
  /** Session ids and events given up because too many were pending. */
  dropped = 0;

  constructor(
    private readonly sessions: SessionStore,
    private readonly feed: ChangeFeed,
    private readonly acks: ReplicaAcks,
    private readonly k: BarrierKeys,
  ) {
    this.timer = setInterval(() => void this.retry(), RETRY_MS);
    this.timer.unref();
  }

  /** Sessions deleted without confirmation: announced at once (best effort) and deleted again until confirmed. */
  async unconfirmedDelete(uid: string, ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    let set = this.deletes.get(uid);
    if (!set) this.deletes.set(uid, (set = new Set()));
    for (const id of ids) if (!set.has(id)) (set.add(id), (this.deleteCount += 1));
    while (this.deleteCount > MAX_PENDING) {
      const [oldest, s] = this.deletes.entries().next().value as [string, Set<string>];
      this.deletes.delete(oldest);
      this.deleteCount -= s.size;
      this.dropped += s.size;
    }
    await this.feed.publish({ type: 'sessions.revoked', ids, at: Date.now() }).catch(() => {});
  }

  /**
   * A deleteUserSessions that failed without telling what it deleted (the reply was lost): every
   * session of the user that existed then (created at or before `before`), but `exceptId`, is
   * deleted again, confirmed and announced — sessions created since are left alone.
   */
  failedUserDelete(uid: string, exceptId: string | undefined, before: number): void {
    this.userDeletes.push({ uid, exceptId, before });
    if (this.userDeletes.length > MAX_PENDING) (this.userDeletes.shift(), (this.dropped += 1));
  }

  /** An event whose publication failed or was not confirmed. */
  unpublished(e: ChangeEvent): void {
    this.events.push(e);
    if (this.events.length > MAX_PENDING) (this.events.shift(), (this.dropped += 1));
  }

  /** Session ids and events still pending. */
  get count(): number {
    return this.deleteCount + this.events.length + this.userDeletes.length;
  }

  /** One pass over everything pending; what still fails stays for the next. */
  retry(): Promise<void> {
    this.running ??= (async () => {
      for (const d of [...this.userDeletes]) {
        let ids: string[];
        try {
          ids = (await this.sessions.listSessionsByUser(d.uid, Date.now())).filter((x) => x.createdAt <= d.before && x.id !== d.exceptId).map((x) => x.id);
          for (const id of ids) await this.sessions.deleteSession(id);
          await this.acks.confirm(this.k.user(d.uid));
        } catch {
          continue;
        }
        this.userDeletes.splice(this.userDeletes.indexOf(d), 1);
        if (ids.length > 0) this.events.push({ type: 'sessions.revoked', ids, at: Date.now() });
      }
      for (const [uid, set] of [...this.deletes]) {
        const ids = [...set];
        try {
          for (const id of ids) await this.sessions.deleteSession(id);
          await this.acks.confirm(this.k.user(uid));
        } catch {
          continue;
        }
        for (const id of ids) if (set.delete(id)) this.deleteCount -= 1;
        if (set.size === 0 && this.deletes.get(uid) === set) this.deletes.delete(uid);
        this.events.push({ type: 'sessions.revoked', ids, at: Date.now() });
      }
      for (let n = this.events.length; n > 0 && this.events.length > 0; n--) {
        const e = this.events[0]!;
        try {
          await this.feed.publish({ ...e, at: Date.now() });
          await this.acks.confirm(this.k.feed);
        } catch {
          break; // the feed is still unavailable
        }
        this.events.shift();
      }
    })().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  close(): void {
    clearInterval(this.timer);
  }
}

export function confirmedSessions(inner: SessionStore, acks: ReplicaAcks, k: BarrierKeys, repairs: RevocationRepairs): SessionStore {
  const confirm = async (uid: string, deleted: string[]) => {
    try {
      await acks.confirm(k.user(uid));
    } catch (e) {
      await repairs.unconfirmedDelete(uid, deleted);
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
      const uid = ownerOf(id);
      let deleted;
      try {
        deleted = await inner.deleteSession(id);
      } catch (e) {
        // The delete may or may not have happened (a lost reply): treated as unconfirmed.
        if (uid !== null) await repairs.unconfirmedDelete(uid, [id]);
        throw e;
      }
      if (uid !== null) await confirm(uid, deleted ? [id] : []);
      return deleted;
    },
    async deleteUserSessions(userId, exceptId) {
      const before = Date.now();
      let ids;
      try {
        ids = await inner.deleteUserSessions(userId, exceptId);
      } catch (e) {
        repairs.failedUserDelete(userId, exceptId, before);
        throw e;
      }
      await confirm(userId, ids);
      return ids;
    },
  };
}

export function confirmedFeed(inner: ChangeFeed, acks: ReplicaAcks, k: BarrierKeys, repairs: RevocationRepairs): ChangeFeed {
  return {
    async publish(e) {
      try {
        await inner.publish(e);
        await acks.confirm(k.feed);
      } catch (err) {
        repairs.unpublished(e);
        throw err;
      }
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
