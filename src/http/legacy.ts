/**
 * Migration from express-session: a request that carries no Gatehouse credential but a valid old
 * `connect.sid` cookie gets a Gatehouse session in its place, on that very request.
 *
 * The old cookie is `s:` + sid + `.` + base64(HMAC-SHA256(secret, sid)) without padding (the format of
 * `cookie-signature`, which express-session uses), URL-encoded. It is checked against every configured
 * old secret in constant time; anything else (unsigned, forged, another secret, an expired or unknown
 * session, a user who no longer exists or is disabled) is simply no credential.
 *
 * Application data of the old session (a cart, preferences) can be carried into the new session's
 * data (`mapData`): written before the new cookie is handed out, all or nothing within the session
 * data bound. Data over the bound is dropped and the sign-in still moves (the audit says so).
 *
 * The old entry is claimed atomically (see LegacySessionSource.claim), so of parallel first requests
 * with one old cookie exactly one creates the Gatehouse session and sets its cookie; the others wait
 * briefly for it and are authenticated as that same session. After `graceMs` the old cookie is worth
 * nothing, and once the marker expires the old entry is gone altogether.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GatehouseConfig } from '../config.js';
import type { AuthContext, AuthCore } from '../core/auth.js';
import { randomId } from '../core/crypto.js';
import { parseDevice } from '../core/device.js';
import { normalizeEmail } from '../core/email.js';
import type { NewSession } from '../core/sessions.js';
import type { LegacyEntry, LegacySessionSource, SessionData } from '../ports.js';
import { readCookie, setCookie } from './cookies.js';
import { requestMeta, type TrustFn } from './meta.js';

export interface LegacyOptions {
  /** Where the old sessions live, e.g. `new ConnectRedisSource(redis)`. */
  source: LegacySessionSource;
  /** express-session's `secret` values (any of them may have signed a live cookie). */
  secrets: readonly string[];
  /** express-session's cookie `name`. Default `connect.sid`. */
  cookieName?: string;
  /** The Gatehouse user id for an old session's data, or null when it names nobody (not signed in). */
  mapUser(data: Record<string, unknown>): Promise<string | null>;
  /** How long parallel first requests with the same old cookie are let in as the new session. Default 10 s. */
  graceMs?: number;
  /**
   * The part of an old session's data to keep as the new session's data (see SessionDataHandle), or
   * null/undefined for none. Default: nothing is carried over, only who is signed in.
   */
  mapData?(data: Record<string, unknown>): Record<string, unknown> | null | undefined;
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

/** JSON-clean copy of carried data, or null if it does not survive JSON (functions, cycles, BigInt...). */
function jsonData(v: Record<string, unknown>): Record<string, unknown> | null {
  try {
    const json = JSON.stringify(v);
    if (json === undefined) return null;
    const back = JSON.parse(json) as unknown;
    return typeof back === 'object' && back !== null && !Array.isArray(back) ? (back as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

const MAX_COOKIE_VALUE = 1024;
/** How long a parallel request waits for the winner to finish creating the session. */
const FOLLOW_WAIT_MS = 3000;
const FOLLOW_STEP_MS = 15;

function b64NoPad(buf: Buffer): string {
  return buf.toString('base64').replace(/=+$/, '');
}

/** The session id of a `s:sid.mac` cookie signed by one of `secrets`, or null. */
export function unsignSessionCookie(value: string, secrets: readonly string[]): string | null {
  if (value.length > MAX_COOKIE_VALUE) return null;
  let v: string;
  try {
    v = decodeURIComponent(value);
  } catch {
    return null;
  }
  if (!v.startsWith('s:')) return null;
  const signed = v.slice(2);
  const dot = signed.lastIndexOf('.');
  if (dot <= 0) return null;
  const sid = signed.slice(0, dot);
  const given = Buffer.from(signed.slice(dot + 1));
  let ok = false;
  for (const secret of secrets) {
    const want = Buffer.from(b64NoPad(createHmac('sha256', secret).update(sid).digest()));
    // Every secret is tried, so the time taken does not say which one matched.
    if (want.length === given.length && timingSafeEqual(want, given)) ok = true;
  }
  return ok ? sid : null;
}

/** Maps an old session to a user by a dot path into its data: an email is looked up, anything else is an id. */
export function userFieldMapper(core: AuthCore, path: string): (data: Record<string, unknown>) => Promise<string | null> {
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
    const email = normalizeEmail(v);
    const user = email ? await core.stores.users.getUserByEmail(email.canonical) : null;
    return user?.id ?? null;
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class LegacyMigration {
  readonly cookieName: string;
  private readonly graceMs: number;
  private readonly holdMs: number;

  constructor(
    private readonly core: AuthCore,
    private readonly trust: TrustFn,
    private readonly opts: LegacyOptions,
  ) {
    if (!opts.secrets.length || opts.secrets.some((s) => typeof s !== 'string' || s.length === 0)) throw new TypeError('legacy.secrets must list at least one non-empty secret');
    this.cookieName = opts.cookieName ?? 'connect.sid';
    if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(this.cookieName)) throw new TypeError(`legacy.cookieName "${this.cookieName}" is not a cookie name`);
    this.graceMs = opts.graceMs ?? 10_000;
    // The marker outlives the grace window by the time a slow winner may take to finish.
    this.holdMs = this.graceMs + 5_000;
  }

  /** Whether the request carries the old cookie at all (cheap; no store access). */
  present(req: IncomingMessage): boolean {
    return readCookie(req, this.cookieName).length > 0;
  }

  /**
   * Migrates the old session the request's cookie names, if it is valid: resolves the new session's
   * auth context (cookies set on `res`), or null when the old cookie is no credential.
   */
  async migrate(req: IncomingMessage, res: ServerResponse): Promise<AuthContext | null> {
    const values = readCookie(req, this.cookieName);
    if (values.length !== 1) return null;
    const sid = unsignSessionCookie(values[0]!, this.opts.secrets);
    if (sid === null) return null;
    const { source } = this.opts;
    const waitUntil = Date.now() + FOLLOW_WAIT_MS;
    for (let round = 0; round < 200; round++) {
      const entry = await source.read(sid);
      if (!entry) return null;
      if (entry.kind === 'migrated') {
        if (entry.sessionId !== null) return this.follow(entry);
        // Another request is creating the session right now: wait for it, boundedly.
        if (Date.now() >= waitUntil) return null;
        await sleep(FOLLOW_STEP_MS);
        continue;
      }
      const out = await this.replace(sid, entry, req, res);
      if (out !== 'lost') return out;
    }
    return null;
  }

  /** The data to carry over: undefined for none, null when the mapper's result is not JSON data. */
  private carriedData(old: Record<string, unknown>): Record<string, unknown> | null | undefined {
    if (!this.opts.mapData) return undefined;
    const picked = this.opts.mapData(old);
    if (picked === null || picked === undefined || Object.keys(picked).length === 0) return undefined;
    return jsonData(picked);
  }

  /** A request that lost the race: it is the session the winner created, within the grace window. */
  private async follow(entry: Extract<LegacyEntry, { kind: 'migrated' }>): Promise<AuthContext | null> {
    const { core } = this;
    if (core.clock.now() - entry.at > this.graceMs) return null;
    const session = await core.sessions.load(entry.sessionId!);
    if (!session || session.mode !== 'session' || session.userId !== entry.userId) return null;
    const user = await core.users.get(session.userId);
    if (!user) return null;
    return { user, sessionId: session.id, mode: 'session', session, claims: null };
  }

  private async replace(sid: string, entry: Extract<LegacyEntry, { kind: 'session' }>, req: IncomingMessage, res: ServerResponse): Promise<AuthContext | null | 'lost'> {
    const { core, opts } = this;
    const now = core.clock.now();
    if (entry.expiresAt !== null && entry.expiresAt <= now) return null;
    const userId = await opts.mapUser(entry.data);
    const user = userId ? await core.users.get(userId) : null;
    if (!user) return null;
    const claimId = randomId(core.random);
    if (!(await opts.source.claim(sid, entry.version, claimId, this.holdMs))) return 'lost';
    const meta = requestMeta(req, this.trust);
    const carried = this.carriedData(entry.data);
    let dataOutcome: 'none' | 'carried' | 'too_large' | 'invalid' = carried === undefined ? 'none' : carried === null ? 'invalid' : 'carried';
    let created: NewSession | undefined;
    try {
      created = await core.sessions.create(user.id, 'session', { ip: meta.ip, device: parseDevice(meta.userAgent) }, entry.expiresAt ?? undefined);
      if (carried) {
        const r = await core.sessions.patchData(created.record.id, { set: carried as SessionData, unset: [] }, core.config.session.dataMaxBytes);
        if (r === 'too_large') dataOutcome = 'too_large';
        else if (r === 'missing') throw new Error('the new session vanished before its data was written');
      }
      await opts.source.complete(sid, claimId, { sessionId: created.record.id, userId: user.id, at: now }, this.holdMs);
    } catch (e) {
      // Nothing was handed out: put the old session back so the user is not signed out by an outage.
      if (created) await core.sessions.delete(created.record.id).catch(() => {});
      await opts.source.release(sid, claimId).catch(() => {});
      throw e;
    }
    const { record, token, evicted } = created;
    if (evicted.length > 0) {
      await core.publishRevoked(evicted.map((s) => s.id));
      for (const s of evicted) {
        await core.refresh.deleteBySession(s.id);
        await core.audit.record('session.evicted', { userId: s.userId, sessionId: s.id }, meta, { mode: s.mode, policy: 'max_sessions' });
      }
    }
    await core.audit.record('session.migrated', { userId: user.id, sessionId: record.id }, meta, {
      from: 'express-session',
      capped: entry.expiresAt !== null && record.expiresAt === entry.expiresAt,
      ...(dataOutcome !== 'none' ? { data: dataOutcome } : {}),
    });
    setCookie(res, core.config.session.cookieName, token!, { path: '/', sameSite: 'Lax', maxAgeSeconds: (record.expiresAt - now) / 1000 });
    res.appendHeader('Set-Cookie', `${this.cookieName}=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT`);
    return { user, sessionId: record.id, mode: 'session', session: record, claims: null };
  }
}

/**
 * The standalone server's migration, from `config.legacy`: connect-redis on Redis, users found by a
 * field of the old session. Resolves null when migration is off.
 */
export async function legacyFromConfig(core: AuthCore, trust: TrustFn, config: GatehouseConfig): Promise<{ migration: LegacyMigration; close(): Promise<void> } | null> {
  const l = config.legacy;
  if (!l.enabled) return null;
  const url = l.redisUrl ?? config.redisUrl;
  if (!url) throw new TypeError('GATEHOUSE_LEGACY_SESSIONS needs GATEHOUSE_LEGACY_REDIS_URL (or GATEHOUSE_REDIS_URL): where connect-redis keeps the old sessions');
  const [{ connect }, { ConnectRedisSource }] = await Promise.all([import('../stores/redis/client.js'), import('../stores/legacy/connect-redis.js')]);
  const source = new ConnectRedisSource(connect({ url, commandTimeoutMs: config.storeTimeout }), { prefix: l.prefix });
  const migration = new LegacyMigration(core, trust, {
    source,
    secrets: l.secrets,
    cookieName: l.cookieName,
    mapUser: userFieldMapper(core, l.userField),
    graceMs: l.grace,
    ...(l.dataFields.length > 0 ? { mapData: dataFieldsMapper(l.dataFields) } : {}),
  });
  return { migration, close: () => source.close() };
}
