/**
 * Which sessions were revoked recently, on any instance.
 *
 * Access tokens and cached cookie sessions are checked against this set instead of the store, so the
 * steady state costs no I/O per request. Entries live as long as the longest access token or cache
 * entry could (`horizonMs`), after which the token itself has expired.
 *
 * The set is fed by the ChangeFeed. While the feed is disconnected, and until a replay after
 * reconnecting has completed, `trusted` is false and callers must confirm sessions against the store
 * (fail closed): no revocation made during an outage is missed. Under the live feed, a sweep re-reads
 * the retained log every `SWEEP_MS`: a link that reports itself up but silently stops delivering (a lost
 * LISTEN or SUBSCRIBE) can delay a revocation by at most that long.
 */
import type { ChangeEvent, ChangeFeed, Clock } from '../ports.js';

/** What the set remembers right now; see `RevocationSet.snapshot`. */
export interface RevocationSnapshot {
  /** Revoked session ids whose forget-after time is still in the future, in no particular order. */
  ids: string[];
  /** False while the feed is down or a replay is pending: the list may then be incomplete. */
  trusted: boolean;
  /** `RevocationSet.revision` when the snapshot was taken. */
  revision: number;
  /** When the list next changes by time alone (the earliest forget-after among `ids`; Infinity when empty). */
  until: number;
}

/** Interval of the safety-net sweep over the retained log. */
export const SWEEP_MS = 5000;
/** How far back a sweep looks beyond its interval: covers clock skew between instances. */
const SWEEP_OVERLAP_MS = 10_000;

function eventKey(e: ChangeEvent): string {
  return e.type === 'user.changed' ? `u:${e.userId}:${e.at}` : `${e.type}:${e.at}`;
}

export class RevocationSet {
  private readonly revoked = new Map<string, number>(); // session id → forget after
  private readonly listeners = new Set<(ids: readonly string[]) => void>();
  private unsubscribe: (() => void) | null = null;
  private lastEventAt = 0;
  private disconnectedSince: number | null = null;
  private syncing: Promise<void> | null = null;
  private lastPrune = 0;
  private changes = 0;
  #trusted = false;

  /** False while the feed is down or a replay is pending: callers must then confirm sessions in the store. */
  get trusted(): boolean {
    return this.#trusted;
  }

  constructor(
    private readonly feed: ChangeFeed,
    private readonly clock: Clock,
    private readonly horizonMs: number,
    private readonly hooks: {
      keysChanged?: () => void;
      userChanged?: (userId: string) => void;
      error?: (e: unknown) => void;
      /** An event arrived live, `lagMs` after it was made (replays are not reported). */
      delivered?: (type: ChangeEvent['type'], lagMs: number) => void;
    } = {},
  ) {}

  private sweepTimer: NodeJS.Timeout | null = null;

  start(): void {
    const startedAt = this.clock.now();
    this.sweepTimer = setInterval(() => void this.sweep(), SWEEP_MS);
    this.sweepTimer.unref();
    this.unsubscribe = this.feed.subscribe({
      event: (e) => {
        this.hooks.delivered?.(e.type, this.clock.now() - e.at);
        this.apply(e);
      },
      status: (up) => {
        if (!up) {
          this.#trusted = false;
          this.disconnectedSince ??= this.clock.now();
        } else {
          void this.resync(this.disconnectedSince ?? startedAt);
        }
      },
    });
    // A fresh instance replays the retained log too: tokens revoked before it started are still live.
    if (this.feed.connected) void this.resync(startedAt - this.horizonMs);
    else this.disconnectedSince = startedAt - this.horizonMs;
  }

  /** Called when a revocation is seen (either from the feed or made locally); used to drop cache entries. */
  onRevoked(listener: (ids: readonly string[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** How long an entry is remembered (ms): longer than any access token or cache entry it could affect lives. */
  get windowMs(): number {
    return this.horizonMs;
  }

  /**
   * Changes whenever an entry is added or its forget-after time moves. A reader that memoizes what it
   * derives from a snapshot may keep it while the revision is unchanged and the snapshot's `until` has
   * not passed.
   */
  get revision(): number {
    return this.changes;
  }

  /**
   * The revoked session ids remembered now (forget-after still in the future) and whether the set is
   * trusted. Costs one pass over the set; readers polling it should memoize on `revision` and `until`.
   */
  snapshot(): RevocationSnapshot {
    const now = this.clock.now();
    const ids: string[] = [];
    let until = Infinity;
    for (const [id, t] of this.revoked) {
      if (t <= now) continue;
      ids.push(id);
      if (t < until) until = t;
    }
    return { ids, trusted: this.trusted, revision: this.changes, until };
  }

  has(sessionId: string): boolean {
    const until = this.revoked.get(sessionId);
    return until !== undefined && until > this.clock.now();
  }

  /** Marks sessions revoked locally at once (before the feed echoes it back). */
  add(ids: readonly string[], at = this.clock.now()): void {
    const until = at + this.horizonMs;
    for (const id of ids) {
      if (this.revoked.get(id) === until) continue;
      this.revoked.set(id, until);
      this.changes += 1;
    }
    for (const l of this.listeners) l(ids);
    this.prune();
  }

  /** Waits for a pending replay, e.g. in tests or before trusting the set. */
  async settled(): Promise<void> {
    await this.syncing;
  }

  private apply(e: ChangeEvent): void {
    this.lastEventAt = Math.max(this.lastEventAt, e.at);
    if (e.type === 'sessions.revoked') return this.add(e.ids, e.at);
    this.seen.set(eventKey(e), e.at);
    if (e.type === 'keys.changed') this.hooks.keysChanged?.();
    else if (e.type === 'user.changed') this.hooks.userChanged?.(e.userId);
  }

  /** Key changes and user changes applied lately (key → event time), so a sweep applies each once. */
  private readonly seen = new Map<string, number>();

  private resync(since: number): Promise<void> {
    const run = async () => {
      try {
        // Overlap by a second: replaying an event twice is harmless, missing one is not.
        const events = await this.feed.replay(Math.min(since, this.lastEventAt || since) - 1000);
        for (const e of events) this.apply(e);
        this.disconnectedSince = null;
        this.#trusted = this.feed.connected;
      } catch (e) {
        this.#trusted = false;
        this.hooks.error?.(e);
        this.retryLater();
      }
    };
    this.syncing = (this.syncing ?? Promise.resolve()).then(run);
    return this.syncing;
  }

  private retryTimer: NodeJS.Timeout | null = null;
  private retryLater(): void {
    if (this.retryTimer || !this.unsubscribe) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (!this.trusted && this.feed.connected) void this.resync(this.disconnectedSince ?? this.clock.now() - this.horizonMs);
    }, 1000);
    this.retryTimer.unref();
  }

  private lastSweepAt = 0;

  /**
   * Applies revocations from the retained log that the live feed did not deliver. Reads back to the
   * start of the last sweep that succeeded: while the log cannot be read (its Redis node failing
   * over) the link may also have lost messages without reporting it (a Cluster client moves its
   * subscription to another node silently), and those must not fall out of the window meanwhile.
   */
  async sweep(): Promise<void> {
    if (!this.trusted || !this.feed.connected) return;
    const now = this.clock.now();
    const from = Math.max(Math.min(now - SWEEP_MS, this.lastSweepAt || now), now - this.horizonMs) - SWEEP_OVERLAP_MS;
    try {
      const events = await this.feed.replay(from);
      for (const e of events) {
        // A user change missed too (a password change, a disable) would leave a cached profile, and the
        // sessions its credentials no longer allow, accepted until the cache entry expires.
        if (e.type === 'sessions.revoked' ? e.ids.some((id) => !this.has(id)) : !this.seen.has(eventKey(e))) this.apply(e);
      }
      for (const [key, at] of this.seen) if (at < from) this.seen.delete(key);
      this.lastSweepAt = now;
    } catch (e) {
      this.hooks.error?.(e);
    }
  }

  private prune(): void {
    const now = this.clock.now();
    if (now - this.lastPrune < 60_000) return;
    this.lastPrune = now;
    for (const [id, until] of this.revoked) if (until <= now) this.revoked.delete(id);
  }

  stop(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.unsubscribe?.();
    this.unsubscribe = null;
  }
}
