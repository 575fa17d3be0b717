/**
 * The Redis stores with revocations confirmed by replicas (see acks.ts).
 *
 * A revocation is durable once two things are on a replica: the session is gone from its user's hash
 * (or the session, once forgotten by the revocation set, would validate again after a failover), and
 * the feed's log holds the `sessions.revoked` event (or an instance that replays the log after the
 * failover, or starts later, would accept the session's access tokens until they expire). So the
 * writes that make them — deleting a session, deleting a user's sessions, re-deleting the sessions a
 * login evicted, adding the event to the log — are sent in the replica barrier's pipeline, on the
 * barrier's connection, and confirmed there (acks.ts). Live delivery (PUBLISH) and the event's
 * sequence number go over the main connection: they need no durability.
 *
 * Refresh tokens need no confirmation: a refresh is refused unless its session is live, so a refresh
 * token that comes back without its session is worthless. Logins, renewals and rotations are not
 * confirmed: a failover may lose the last moment of them (the client signs in again), never a
 * revocation. On one server (and behind Sentinel) every key lives on the same master, so every
 * barrier uses one key and concurrent revocations share pipelines.
 *
 * When a revocation fails (503), it may be half done: the sessions gone from the master but not yet
 * on a replica, or gone but not logged, or the reply lost. So it is not left to the client: the
 * deleted sessions are announced at once (best effort: every instance refuses them), and this process
 * re-applies the revocation every second until a replica confirms it — after a failover that lost the
 * delete, the promoted master gets it again, and an event the dead master never logged is logged.
 * Only the loss of this process as well, before it succeeds, leaves it to the client's retry.
 */
import type { ChangeEvent, ChangeFeed, SessionRecord, SessionStore } from '../../ports.js';
import { localPartOf, ownerOf, RANDOM_ID_LENGTH } from '../../ids.js';
import { decodeSession } from './codec.js';
import { guard, type RedisClient } from './client.js';
import { feedPayload } from './feed.js';
import type { Keys } from './keys.js';
import { UnconfirmedWrites, type PipelineOp, type ReplicaAcks } from './acks.js';
import { tombstones, TOMBSTONE_TTL_MS } from './durable-scripts.js';

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

/** Beyond this many pending repairs (session ids, user deletes, events), the oldest are given up. */
const MAX_PENDING = 100_000;
const RETRY_MS = 1000;
/** How long a revocation logged by the store itself spares the caller's identical publication. */
const LOGGED_MS = 60_000;

/** Revocation writes confirmed by replicas, and the repair of those that failed. */
export class ConfirmedRevocations {
  private readonly deletes = new Map<string, Set<string>>(); // user id → session ids to delete again
  private deleteCount = 0;
  private readonly userDeletes: { uid: string; exceptId: string | undefined; before: number }[] = [];
  private readonly events: ChangeEvent[] = [];
  private running: Promise<void> | null = null;
  private readonly timer: NodeJS.Timeout;
  /** Repairs given up because too many were pending. */
  dropped = 0;

  constructor(
    /** The main connection: event sequence numbers and live delivery. */
    private readonly r: RedisClient,
    private readonly acks: ReplicaAcks,
    private readonly k: Keys,
    private readonly bk: BarrierKeys,
    private readonly retentionMs: number,
    /** The key prefix (for the tombstones, which keys.ts does not name). */
    private readonly prefix: string,
  ) {
    this.timer = setInterval(() => void this.retry(), RETRY_MS);
    this.timer.unref();
  }

  // ---------------------------------------------------------------- confirmed writes

  private deleteOp(uid: string, field: string): PipelineOp {
    return (p) => p.deleteSessionBuffer!(this.k.user(uid), field, this.k.dataPrefix(uid));
  }

  /**
   * Deletes sessions and logs their revocation, both confirmed, then delivers it live. The session
   * store does this itself, not only the caller after it: a request that fails between the delete
   * and its own publication (another store call answering 503) leaves no deleted session unannounced.
   */
  private async revoke(uid: string, ops: PipelineOp[], ids: string[]): Promise<unknown[]> {
    const e: ChangeEvent = { type: 'sessions.revoked', ids, at: Date.now() };
    try {
      if (this.bk.user(uid) === this.bk.feed) {
        // One master (one server, Sentinel): the deletes and the log entry in one pipeline, one WAIT.
        const payload = feedPayload(await guard(this.r.incr(this.k.feedSeq)), e);
        let out: unknown[];
        try {
          out = await this.acks.confirm(this.bk.feed, [...ops, ...this.logOps(e, payload)]);
        } finally {
          await guard(this.r.publish(this.k.channel, payload)).catch(() => {});
        }
        this.remember(ids);
        return out.slice(0, ops.length);
      }
      const [out] = await Promise.all([this.acks.confirm(this.bk.user(uid), ops), this.logAndDeliver(e)]);
      this.remember(ids);
      return out;
    } catch (err) {
      await this.unconfirmedDelete(uid, ids);
      throw err;
    }
  }

  /** Deletes one session, confirmed and logged; resolves the deleted record (null when it was gone already). */
  async deleteSession(id: string): Promise<SessionRecord | null> {
    const uid = ownerOf(id);
    if (uid === null) return null;
    const [v] = await this.revoke(uid, [this.deleteOp(uid, id.slice(0, RANDOM_ID_LENGTH))], [id]);
    return v ? decodeSession(id, uid, v as Buffer) : null;
  }

  /** Deletes every session of a user but `exceptId`, confirmed and logged; resolves the deleted ids. */
  async deleteUserSessions(uid: string, exceptId: string | undefined): Promise<string[]> {
    const before = Date.now();
    const except = exceptId === undefined ? '' : (localPartOf(exceptId, uid) ?? '');
    let ids: string[];
    try {
      const [fields] = await this.acks.confirm(this.bk.user(uid), [
        (p) => p.deleteUserSessionsRecorded!(this.k.user(uid), tombstones(this.prefix, uid), except, this.k.dataPrefix(uid), before, TOMBSTONE_TTL_MS),
      ]);
      ids = (fields as string[]).map((f) => f + uid);
    } catch (e) {
      if (e instanceof UnconfirmedWrites) {
        // Deleted, but not confirmed: what it deleted is known, and re-applied like any unconfirmed delete.
        await this.unconfirmedDelete(uid, (e.results[0] as string[]).map((f) => f + uid));
      } else {
        // No answer (a lost reply): what it did is unknown. Re-applied as "every session that existed
        // then", and what the lost attempt deleted is read back from its tombstones, to be logged.
        this.push(this.userDeletes, { uid, exceptId: except === '' ? undefined : exceptId, before });
      }
      throw e;
    }
    if (ids.length > 0) await this.publish({ type: 'sessions.revoked', ids, at: Date.now() });
    return ids;
  }

  /** Sessions a login evicted (deleted by its script): deleted again where the barrier runs, confirmed and logged. */
  async confirmEvicted(uid: string, ids: string[]): Promise<void> {
    await this.revoke(uid, ids.map((id) => this.deleteOp(uid, id.slice(0, RANDOM_ID_LENGTH))), ids);
  }

  /**
   * Logs the event (confirmed), then delivers it live — also when the log write was not confirmed.
   * A revocation of sessions this store has just revoked and logged itself is not logged twice.
   */
  async publish(e: ChangeEvent): Promise<void> {
    if (e.type === 'sessions.revoked') {
      const now = Date.now();
      const ids = e.ids.filter((id) => !((this.logged.get(id) ?? 0) > now - LOGGED_MS));
      if (ids.length === 0) return;
      e = { ...e, ids };
    }
    try {
      await this.logAndDeliver(e);
    } catch (err) {
      this.push(this.events, e);
      throw err;
    }
  }

  private logOps(e: ChangeEvent, payload: string): PipelineOp[] {
    return [(p) => p.zadd(this.k.feedLog, e.at, payload), (p) => p.zremrangebyscore(this.k.feedLog, '-inf', `(${e.at - this.retentionMs}`)];
  }

  private async logAndDeliver(e: ChangeEvent): Promise<void> {
    // A sequence number keeps identical events distinct in the log and orders events of one millisecond.
    const payload = feedPayload(await guard(this.r.incr(this.k.feedSeq)), e);
    try {
      await this.acks.confirm(this.bk.feed, this.logOps(e, payload));
    } finally {
      await guard(this.r.publish(this.k.channel, payload)).catch(() => {});
    }
    if (e.type === 'sessions.revoked') this.remember(e.ids);
  }

  /** Session ids whose revocation was logged (confirmed) lately: id → when. */
  private readonly logged = new Map<string, number>();

  private remember(ids: readonly string[]): void {
    const now = Date.now();
    for (const id of ids) this.logged.set(id, now);
    if (this.logged.size > 10_000) for (const [id, t] of this.logged) if (t <= now - LOGGED_MS) this.logged.delete(id);
  }

  // ---------------------------------------------------------------- repairs

  private push<T>(list: T[], item: T): void {
    list.push(item);
    if (list.length > MAX_PENDING) (list.shift(), (this.dropped += 1));
  }

  /** Sessions deleted without confirmation: announced now (best effort), deleted again until confirmed. */
  private async unconfirmedDelete(uid: string, ids: string[]): Promise<void> {
    let set = this.deletes.get(uid);
    if (!set) this.deletes.set(uid, (set = new Set()));
    for (const id of ids) if (!set.has(id)) (set.add(id), (this.deleteCount += 1));
    while (this.deleteCount > MAX_PENDING) {
      const [oldest, s] = this.deletes.entries().next().value as [string, Set<string>];
      this.deletes.delete(oldest);
      this.deleteCount -= s.size;
      this.dropped += s.size;
    }
    const payload = feedPayload(0, { type: 'sessions.revoked', ids, at: Date.now() });
    await guard(this.r.publish(this.k.channel, payload)).catch(() => {});
  }

  /** Repairs still pending (session ids, user deletes, events). */
  get pending(): number {
    return this.deleteCount + this.userDeletes.length + this.events.length;
  }

  /** One pass over everything pending; what still fails stays for the next. */
  retry(): Promise<void> {
    this.running ??= (async () => {
      for (const d of [...this.userDeletes]) {
        let fields: string[];
        try {
          const except = d.exceptId === undefined ? '' : (localPartOf(d.exceptId, d.uid) ?? '');
          [fields] = (await this.acks.confirm(this.bk.user(d.uid), [
            (p) => p.repairUserSessions!(this.k.user(d.uid), tombstones(this.prefix, d.uid), except, d.before, this.k.dataPrefix(d.uid), Date.now(), TOMBSTONE_TTL_MS),
          ])) as [string[]];
        } catch {
          continue;
        }
        this.userDeletes.splice(this.userDeletes.indexOf(d), 1);
        if (fields.length > 0) this.push(this.events, { type: 'sessions.revoked', ids: fields.map((f) => f + d.uid), at: Date.now() });
      }
      for (const [uid, set] of [...this.deletes]) {
        const ids = [...set];
        try {
          await this.acks.confirm(this.bk.user(uid), ids.map((id) => this.deleteOp(uid, id.slice(0, RANDOM_ID_LENGTH))));
        } catch {
          continue;
        }
        for (const id of ids) if (set.delete(id)) this.deleteCount -= 1;
        if (set.size === 0 && this.deletes.get(uid) === set) this.deletes.delete(uid);
        this.push(this.events, { type: 'sessions.revoked', ids, at: Date.now() });
      }
      while (this.events.length > 0) {
        // Logged again with the time of this attempt, so every reader's replay and sweep window covers it.
        try {
          await this.logAndDeliver({ ...this.events[0]!, at: Date.now() });
        } catch {
          break; // the feed's master is still unavailable
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

export function confirmedSessions(inner: SessionStore, c: ConfirmedRevocations): SessionStore {
  return {
    ...inner,
    async createSession(session, opts) {
      const evicted = await inner.createSession(session, opts);
      if (evicted.length > 0) await c.confirmEvicted(session.userId, evicted.map((s) => s.id));
      return evicted;
    },
    deleteSession: (id) => c.deleteSession(id),
    deleteUserSessions: (userId, exceptId) => c.deleteUserSessions(userId, exceptId),
  };
}

export function confirmedFeed(inner: ChangeFeed, c: ConfirmedRevocations): ChangeFeed {
  return {
    publish: (e) => c.publish(e),
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
