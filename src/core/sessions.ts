/**
 * Sessions: one record per login in either mode, validated from an in-process cache.
 *
 * A cookie carries `id.secret`; the store keeps sha256(secret), compared in constant time. A cached
 * entry holds the record as last read, so a steady-state request does no I/O: the cache entry expires
 * at the session's own idle or absolute expiry (re-read from the store then, since another instance may
 * have extended it), revocations from any instance evict it through the RevocationSet, and the sliding
 * renewal writes to the store at most once per renewal interval.
 */
import type { AssuranceLevel, Clock, DeviceInfo, Random, SessionAuth, SessionBinding, SessionDataPatch, SessionMode, SessionRecord, SessionStore } from '../ports.js';
import { newOwnedId, newSplitToken, parseSplitToken, safeEqual, sha256 } from './crypto.js';
import type { RevocationSet } from './revocations.js';
import { SessionCache } from './session-cache.js';

export interface SessionTimes {
  /** Single-session mode: a new session of this mode ends the others (maxPerUser is then 1). */
  single: boolean;
  idleTtlMs: number;
  absoluteTtlMs: number;
  renewIntervalMs: number;
  maxPerUser: number;
}

export interface SessionPolicy {
  session: SessionTimes;
  token: SessionTimes;
  cacheMaxEntries: number;
  /** Longest a cache entry may be trusted without a store read (bounds staleness of e.g. authAt). */
  cacheTtlMs: number;
}

const NO_SECRET = new Uint8Array(32);

/** What a new session records besides its times: where from, how it was authenticated, under which credentials. */
export interface SessionInit {
  ip: string | null;
  device: DeviceInfo;
  amr: string[];
  acr: AssuranceLevel;
  credentialVersion: number;
  /** The device key the session is bound to from its start (DPoP), or null. */
  binding: SessionBinding | null;
}

export interface NewSession {
  record: SessionRecord;
  /** The cookie value (`id.secret`) for session mode; null for token mode. */
  token: string | null;
  evicted: SessionRecord[];
}

export class SessionManager {
  private readonly cache: SessionCache;

  constructor(
    private readonly store: SessionStore,
    private readonly revocations: RevocationSet,
    private readonly policy: SessionPolicy,
    private readonly clock: Clock,
    private readonly random: Random,
  ) {
    this.cache = new SessionCache(policy.cacheMaxEntries);
    revocations.onRevoked((ids) => {
      for (const id of ids) this.cache.delete(id);
    });
  }

  times(mode: SessionMode): SessionTimes {
    return mode === 'session' ? this.policy.session : this.policy.token;
  }

  /** `expiresAtMost` caps the absolute expiry (a session carried over from another system keeps its end). */
  async create(userId: string, mode: SessionMode, init: SessionInit, expiresAtMost?: number): Promise<NewSession> {
    const now = this.clock.now();
    const t = this.times(mode);
    let token: string | null = null;
    let id: string;
    let secretHash: Uint8Array;
    if (mode === 'session') {
      const st = newSplitToken(this.random, userId);
      ({ id, secretHash } = st);
      token = st.token;
    } else {
      id = newOwnedId(this.random, userId);
      secretHash = NO_SECRET;
    }
    const expiresAt = Math.min(now + t.absoluteTtlMs, expiresAtMost ?? Infinity);
    const record: SessionRecord = {
      id,
      userId,
      secretHash,
      mode,
      createdAt: now,
      lastSeenAt: now,
      idleExpiresAt: Math.min(now + t.idleTtlMs, expiresAt),
      expiresAt,
      authAt: now,
      amr: [...init.amr],
      acr: init.acr,
      credentialVersion: init.credentialVersion,
      ip: init.ip,
      device: init.device,
      binding: init.binding,
    };
    const evicted = await this.store.createSession(record, { maxPerUser: t.maxPerUser });
    return { record, token, evicted };
  }

  /**
   * The live session a cookie value names, or null. Touches it (at most once per renewal interval).
   * Never throws on bad input; store outages propagate.
   */
  async validateCookie(value: string | undefined): Promise<SessionRecord | null> {
    const rec = await this.peekCookie(value);
    return rec ? this.touch(rec) : null;
  }

  /**
   * validateCookie without the sliding renewal: a check, not a use. A page that asks now and then
   * whether its session still lives must not keep an idle session alive.
   */
  async peekCookie(value: string | undefined): Promise<SessionRecord | null> {
    const parsed = parseSplitToken(value);
    if (!parsed) return null;
    const rec = await this.load(parsed.id);
    if (!rec || rec.mode !== 'session') return null;
    if (!safeEqual(sha256(parsed.secret), rec.secretHash)) return null;
    return rec;
  }

  /**
   * validateCookie from the cache alone, without I/O or a promise: the live session when the cache
   * decides it (hit, feed trusted, no renewal due), null when the cookie is certainly not valid, and
   * undefined when validateCookie must run. Same checks, same constant-time comparison.
   */
  validateCookieCached(value: string | undefined): SessionRecord | null | undefined {
    const parsed = parseSplitToken(value);
    if (!parsed) return null;
    if (this.revocations.has(parsed.id)) return null;
    if (!this.revocations.trusted) return undefined;
    const now = this.clock.now();
    const rec = this.cache.get(parsed.id, now);
    if (!rec) return undefined;
    if (rec.mode !== 'session') return null;
    if (!safeEqual(sha256(parsed.secret), rec.secretHash)) return null;
    // A renewal write is due: the async path does it.
    if (now - rec.lastSeenAt >= this.policy.session.renewIntervalMs) return undefined;
    return rec;
  }

  /** isLive without a promise: undefined when the feed is not trusted (the store must be asked). */
  isLiveCached(sessionId: string): boolean | undefined {
    if (this.revocations.has(sessionId)) return false;
    return this.revocations.trusted ? true : undefined;
  }

  /** Is the session behind an access token's `sid` still live? Store read only when the feed is not trusted. */
  async isLive(sessionId: string): Promise<boolean> {
    if (this.revocations.has(sessionId)) return false;
    if (this.revocations.trusted) return true;
    return (await this.load(sessionId)) !== null;
  }

  /** Reads through the cache. */
  async load(id: string): Promise<SessionRecord | null> {
    const now = this.clock.now();
    if (this.revocations.has(id)) return null;
    if (this.revocations.trusted) {
      const hit = this.cache.get(id, now);
      if (hit) return hit;
    }
    const rec = await this.store.getSession(id, now);
    if (!rec) return null;
    this.remember(rec, now);
    return rec;
  }

  /** A fresh read, bypassing the cache (for sensitive checks such as recent authentication). */
  async fresh(id: string): Promise<SessionRecord | null> {
    const now = this.clock.now();
    if (this.revocations.has(id)) return null;
    const rec = await this.store.getSession(id, now);
    if (rec) this.remember(rec, now);
    else this.cache.delete(id);
    return rec;
  }

  private remember(rec: SessionRecord, now: number): void {
    this.cache.set(rec, Math.min(rec.idleExpiresAt, rec.expiresAt, now + this.policy.cacheTtlMs));
  }

  /**
   * Sliding renewal: extends the idle expiry, writing at most once per renewal interval. Null when the
   * store no longer has the session (ended elsewhere between the read and the write): it is not live.
   */
  async touch(rec: SessionRecord): Promise<SessionRecord | null> {
    const now = this.clock.now();
    const t = this.times(rec.mode);
    if (now - rec.lastSeenAt < t.renewIntervalMs) return rec;
    const next: SessionRecord = { ...rec, lastSeenAt: now, idleExpiresAt: Math.min(now + t.idleTtlMs, rec.expiresAt) };
    if (!(await this.store.touchSession(rec.id, next.lastSeenAt, next.idleExpiresAt))) {
      this.cache.delete(rec.id);
      return null;
    }
    this.remember(next, now);
    return next;
  }

  /** Records a step-up on the session; false when it is gone. */
  async setAuth(id: string, auth: SessionAuth): Promise<boolean> {
    const ok = await this.store.setSessionAuth(id, auth);
    this.cache.delete(id);
    return ok;
  }

  /** Binds an unbound session to a device key (a binding is never replaced). */
  async bind(id: string, binding: SessionBinding): Promise<'ok' | 'missing' | 'bound'> {
    const r = await this.store.bindSession(id, binding);
    this.cache.delete(id);
    return r;
  }

  list(userId: string): Promise<SessionRecord[]> {
    return this.store.listSessionsByUser(userId, this.clock.now());
  }

  /** Deletes one session; the caller publishes the revocation. */
  async delete(id: string): Promise<SessionRecord | null> {
    this.cache.delete(id);
    return this.store.deleteSession(id);
  }

  async deleteAllOfUser(userId: string, exceptId?: string): Promise<string[]> {
    const ids = await this.store.deleteUserSessions(userId, exceptId);
    for (const id of ids) this.cache.delete(id);
    return ids;
  }

  getData(id: string) {
    return this.store.getSessionData(id);
  }

  patchData(id: string, patch: SessionDataPatch, maxBytes: number) {
    return this.store.patchSessionData(id, patch, maxBytes);
  }

  get cacheSize(): number {
    return this.cache.size;
  }
}
