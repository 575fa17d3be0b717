/**
 * The migration way in: an old session of another library (express-session) proves who the user
 * is, once, and is replaced by a Gatehouse session through the one session start.
 *
 * The caller has already authenticated the old session id (its signed cookie). The old entry is
 * claimed atomically (LegacySessionSource.claim), so of parallel first requests with one old cookie
 * exactly one starts the new session; the others wait briefly and are let in as that same session
 * while the grace window lasts. The marker that records the replacement is sealed (HMAC-SHA256 under
 * a key of Gatehouse's own, over the old id, the claim and the replacement), and its time bounded:
 * old session data can hold anything, including a forged marker naming someone else's session.
 *
 * Application data of the old session (a cart, preferences) can be carried into the new session
 * (`mapData`): written before the new credential is handed out, all or nothing within the bound.
 */
import { createHmac, hkdfSync } from 'node:crypto';
import type { Clock, LegacyEntry, LegacySessionSource, Random, SessionData, SessionRecord } from '../../ports.js';
import type { RequestMeta } from '../audit.js';
import { randomId, safeEqual } from '../crypto.js';
import type { AuthContext, SessionControl } from '../session-control.js';
import type { UserDirectory } from '../users.js';

export interface MigrationSettings {
  source: LegacySessionSource;
  /** The Gatehouse user id for an old session's data, or null when it names nobody (not signed in). */
  mapUser(data: Record<string, unknown>): Promise<string | null>;
  /** The part of an old session's data to keep as the new session's data, or null/undefined for none. */
  mapData?(data: Record<string, unknown>): Record<string, unknown> | null | undefined;
  /** How long parallel first requests with the same old cookie are let in as the new session. */
  graceMs: number;
  /** Keying material for the marker seals (GATEHOUSE_SECRET when set; see compose). */
  sealSecret: string;
  /** Named in the audit trail (`from`). */
  from: string;
}

export interface Migrated {
  ctx: AuthContext;
  /** Set when this request started the session: the cookie to hand out and when it ends. */
  cookie: { value: string; expiresAt: number } | null;
}

/** How long a parallel request waits for the winner to finish creating the session, and how often it looks. */
const FOLLOW_WAIT_MS = 3000;
const FOLLOW_STEP_MS = 15;
/** A marker stamped later than now by more than this is not ours (clocks of instances may differ a little). */
const MAX_FUTURE_SKEW_MS = 5000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** JSON-clean copy of carried data, or null if it does not survive JSON (functions, cycles, BigInt...). */
function jsonData(v: Record<string, unknown>): SessionData | null {
  try {
    const json = JSON.stringify(v);
    if (json === undefined) return null;
    const back = JSON.parse(json) as unknown;
    return typeof back === 'object' && back !== null && !Array.isArray(back) ? (back as SessionData) : null;
  } catch {
    return null;
  }
}

export class LegacyMigration {
  private readonly holdMs: number;
  private readonly sealKey: Buffer;

  constructor(
    private readonly d: { sessions: SessionControl; users: UserDirectory; clock: Clock; random: Random },
    private readonly s: MigrationSettings,
  ) {
    if (typeof s.sealSecret !== 'string' || s.sealSecret.length === 0) throw new TypeError('the migration needs a secret to seal its markers');
    // The marker outlives the grace window by the time a slow winner may take to finish.
    this.holdMs = s.graceMs + 5_000;
    this.sealKey = Buffer.from(hkdfSync('sha256', s.sealSecret, '', 'gatehouse legacy marker v1', 32));
  }

  private seal(sid: string, claimId: string, sessionId: string, userId: string, at: number): string {
    return createHmac('sha256', this.sealKey).update(JSON.stringify([sid, claimId, sessionId, userId, at])).digest('base64url');
  }

  /** Replaces the old session `sid` (already authenticated by its signed cookie), or resolves null. */
  async migrate(sid: string, meta: RequestMeta): Promise<Migrated | null> {
    const { source } = this.s;
    const waitUntil = this.d.clock.now() + FOLLOW_WAIT_MS;
    for (let round = 0; round < 200; round++) {
      const entry = await source.read(sid, this.d.clock.now());
      if (!entry) return null;
      if (entry.kind === 'migrated') {
        if (entry.sessionId !== null) return this.follow(sid, entry);
        // Another request is creating the session right now: wait for it, boundedly.
        if (this.d.clock.now() >= waitUntil) return null;
        await sleep(FOLLOW_STEP_MS);
        continue;
      }
      const out = await this.replace(sid, entry, meta);
      if (out !== 'lost') return out;
    }
    return null;
  }

  /** A request that lost the race: it is the session the winner created, within the grace window. */
  private async follow(sid: string, entry: Extract<LegacyEntry, { kind: 'migrated' }>): Promise<Migrated | null> {
    const now = this.d.clock.now();
    if (entry.sessionId === null || entry.userId === null || entry.seal === null) return null;
    if (entry.at > now + MAX_FUTURE_SKEW_MS || now - entry.at > this.s.graceMs) return null;
    const want = this.seal(sid, entry.claimId, entry.sessionId, entry.userId, entry.at);
    if (!safeEqual(Buffer.from(want), Buffer.from(entry.seal))) return null;
    const session = await this.d.sessions.load(entry.sessionId);
    if (!session || session.mode !== 'session' || session.userId !== entry.userId) return null;
    const active = await this.d.users.active(session.userId);
    if (!active || session.credentialVersion < active.credentialVersion) return null;
    return { ctx: { user: active.user, sessionId: session.id, mode: 'session', session, claims: null, binding: null }, cookie: null };
  }

  private async replace(sid: string, entry: Extract<LegacyEntry, { kind: 'session' }>, meta: RequestMeta): Promise<Migrated | null | 'lost'> {
    const { s, d } = this;
    const now = d.clock.now();
    if (entry.expiresAt !== null && entry.expiresAt <= now) return null;
    const userId = await s.mapUser(entry.data);
    const user = userId ? await d.users.record(userId) : null;
    if (!user || user.disabledAt !== null) return null;
    const claimId = randomId(d.random);
    if (!(await s.source.claim(sid, entry.version, claimId, this.holdMs, now))) return 'lost';
    const picked = s.mapData ? s.mapData(entry.data) : undefined;
    const carried = picked === null || picked === undefined || Object.keys(picked).length === 0 ? undefined : jsonData(picked);
    // The application's mapper returned something that is not JSON data: the sign-in still moves.
    const detail: Record<string, string> = { from: s.from };
    if (carried === null) detail.data = 'invalid';
    let record: SessionRecord | null = null;
    try {
      const out = await d.sessions.start({
        proof: { user, amr: ['migrated'], acr: 'aal1' },
        mode: 'session',
        meta,
        ...(entry.expiresAt !== null ? { expiresAtMost: entry.expiresAt } : {}),
        ...(carried ? { data: carried } : {}),
        event: { type: 'session.migrated', detail },
      });
      if (!out.ok || out.started.mode !== 'session') {
        await s.source.release(sid, claimId).catch(() => {});
        return null;
      }
      record = out.started.session;
      await s.source.complete(sid, claimId, { sessionId: record.id, userId: user.id, at: now, seal: this.seal(sid, claimId, record.id, user.id, now) }, this.holdMs);
      return { ctx: { user: out.started.user, sessionId: record.id, mode: 'session', session: record, claims: null, binding: null }, cookie: { value: out.started.cookie, expiresAt: record.expiresAt } };
    } catch (e) {
      // Nothing was handed out: put the old session back so the user is not signed out by an outage.
      if (record) await d.sessions.end(record.id).catch(() => {});
      await s.source.release(sid, claimId).catch(() => {});
      throw e;
    }
  }
}

/** The listed top-level fields of the old session data (missing ones skipped), e.g. `['cart']`. */
export function dataFieldsMapper(fields: readonly string[]): (data: Record<string, unknown>) => Record<string, unknown> | null {
  const keep = fields.filter((f) => f.length > 0 && f !== 'cookie' && f !== '__proto__');
  return (data) => {
    const out: Record<string, unknown> = {};
    for (const f of keep) if (Object.hasOwn(data, f) && data[f] !== undefined) out[f] = data[f];
    return Object.keys(out).length > 0 ? out : null;
  };
}

/**
 * Maps an old session to a user by a dot path into its data: an email is looked up, anything else is
 * taken as a user id.
 */
export function userFieldMapper(users: Pick<UserDirectory, 'byEmail'>, normalize: (email: string) => string | null, path: string): (data: Record<string, unknown>) => Promise<string | null> {
  const parts = path.split('.').filter(Boolean);
  if (parts.length === 0) throw new TypeError('the legacy user field must be a dot path such as userId or user.email');
  return async (data) => {
    let v: unknown = data;
    for (const p of parts) {
      if (typeof v !== 'object' || v === null || !Object.hasOwn(v, p)) return null;
      v = (v as Record<string, unknown>)[p];
    }
    if (typeof v === 'number' && Number.isSafeInteger(v)) v = String(v);
    if (typeof v !== 'string' || v.length === 0 || v.length > 320) return null;
    if (!v.includes('@')) return v;
    const canonical = normalize(v);
    const user = canonical ? await users.byEmail(canonical) : null;
    return user?.id ?? null;
  };
}
