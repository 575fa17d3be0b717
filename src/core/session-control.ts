/**
 * Sessions as use cases: the one session start every way in calls, authentication of a request from
 * either transport, refresh, step-up, and ending sessions (with the revocation that reaches every
 * instance). Cache, feed, credential-version and audit rules live here and nowhere else.
 */
import type { AuditEvent, AuditEventType, Clock, SessionData, SessionDataPatch, SessionMode, SessionRecord } from '../ports.js';
import type { Audit, RequestMeta } from './audit.js';
import { parseDevice } from './device.js';
import { assuranceOf, mergeMethods, type AuthMethod, type Proof } from './methods/proof.js';
import type { RefreshTokens } from './refresh.js';
import type { RevocationSet } from './revocations.js';
import type { SessionManager } from './sessions.js';
import type { AccessClaims, AccessTokens } from './tokens.js';
import { toPublicUser, type ActiveUser, type PublicUser, type UserDirectory } from './users.js';

/** Who is making a request, as established by authentication. */
export interface AuthContext {
  user: PublicUser;
  sessionId: string;
  mode: SessionMode;
  /** The session record (cookie mode) or null when it was not read (bearer mode reads no store in the steady state). */
  session: SessionRecord | null;
  /** Bearer mode: the verified access-token claims. */
  claims: AccessClaims | null;
}

export interface TokenGrant {
  accessToken: string;
  expiresIn: number;
  refreshToken: string;
  session: SessionRecord;
  user: PublicUser;
}

/** A started session and its transport's credential. */
export type Started =
  | { mode: 'session'; user: PublicUser; session: SessionRecord; cookie: string }
  | { mode: 'token'; user: PublicUser; session: SessionRecord; grant: TokenGrant };

export interface StartSession {
  /** Who, and how they proved it (from a way in). */
  proof: Proof;
  mode: SessionMode;
  meta: RequestMeta;
  /** Caps the absolute expiry (a session carried over from another system keeps its end). */
  expiresAtMost?: number;
  /** Application data written before the credential is handed out: all of it within the bound, or none. */
  data?: SessionData;
  /** The audit event that records the start (default `login.succeeded`) and details to add to it. */
  event?: { type: Extract<AuditEventType, 'login.succeeded' | 'session.migrated'>; detail?: NonNullable<AuditEvent['detail']> };
}

export type StartOutcome =
  | { ok: true; started: Started; data: 'none' | 'ok' | 'too_large' }
  /** The user's credentials changed (new password, disabled, deleted) while the proof was being made. */
  | { ok: false; reason: 'credentials_changed' };

/**
 * A session started under credentials the user has since replaced (or lost: disabled) is dead. A
 * session ahead of the user is the one that is setting a new password right now (see Account).
 */
function stale(session: SessionRecord, active: ActiveUser): boolean {
  return session.credentialVersion < active.credentialVersion;
}

export interface SessionControlDeps {
  sessions: SessionManager;
  refresh: RefreshTokens;
  tokens: AccessTokens;
  revocations: RevocationSet;
  users: UserDirectory;
  audit: Audit;
  clock: Clock;
  dataMaxBytes: number;
  /** Publishes revocations to every instance (the feed) after marking them here. */
  publish(ids: readonly string[], at: number): Promise<void>;
}

export class SessionControl {
  constructor(private readonly d: SessionControlDeps) {}

  // ------------------------------------------------------------------ the one session start

  /**
   * Starts a session for a proven user in either transport: applies the max-sessions / single-session
   * policy (ending and auditing what it evicts), records how the user authenticated, writes carried
   * data, audits the start and returns the transport's credential.
   *
   * The session records the credential version the proof was made under. After inserting it, the
   * user is read again: if the version moved (a password change or reset, a disable, a deletion
   * raced this sign-in), the new session is ended before anything is handed out. A change that lands
   * after that re-read finds the session in the store and ends it with the others, so no interleaving
   * leaves a session minted from old credentials.
   */
  async start(req: StartSession): Promise<StartOutcome> {
    const { proof, mode, meta } = req;
    const d = this.d;
    const created = await d.sessions.create(
      proof.user.id,
      mode,
      { ip: meta.ip, device: parseDevice(meta.userAgent), amr: proof.amr, acr: proof.acr, credentialVersion: proof.user.credentialVersion },
      req.expiresAtMost,
    );
    const { record } = created;
    await this.afterEviction(created.evicted, mode, meta);
    const current = await d.users.record(proof.user.id);
    if (!current || current.disabledAt !== null || current.credentialVersion !== proof.user.credentialVersion) {
      await this.end(record.id);
      await d.audit.record('login.failed', { userId: proof.user.id }, meta, { reason: 'credentials_changed', mode });
      return { ok: false, reason: 'credentials_changed' };
    }
    let data: 'none' | 'ok' | 'too_large' = 'none';
    try {
      if (req.data && Object.keys(req.data).length > 0) {
        const r = await d.sessions.patchData(record.id, { set: req.data, unset: [] }, d.dataMaxBytes);
        if (r === 'missing') throw new Error('the new session vanished before its data was written');
        data = r;
      }
      const user = toPublicUser(current);
      const started: Started =
        mode === 'session' ? { mode, user, session: record, cookie: created.token! } : { mode, user, session: record, grant: await this.grant(user, record) };
      const event = req.event ?? { type: 'login.succeeded' as const };
      await d.audit.record(event.type, { userId: user.id, sessionId: record.id }, meta, {
        mode,
        amr: proof.amr.join(' '),
        ...(req.expiresAtMost !== undefined ? { capped: record.expiresAt === req.expiresAtMost } : {}),
        ...(data !== 'none' ? { data: data === 'ok' ? 'carried' : data } : {}),
        ...(event.detail ?? {}),
      });
      return { ok: true, started, data };
    } catch (e) {
      // Nothing was handed out (a claims hook failed, the store went away): the session must not outlive it.
      await this.end(record.id).catch(() => {});
      throw e;
    }
  }

  private async grant(user: PublicUser, session: SessionRecord): Promise<TokenGrant> {
    const access = await this.d.tokens.issue(user, session);
    const refreshToken = await this.d.refresh.issue(session);
    return { accessToken: access.token, expiresIn: access.expiresIn, refreshToken, session, user };
  }

  private async afterEviction(evicted: SessionRecord[], mode: SessionMode, meta: RequestMeta): Promise<void> {
    if (evicted.length === 0) return;
    await this.publishRevoked(evicted.map((s) => s.id));
    const policy = this.d.sessions.times(mode).single ? 'single' : 'max_sessions';
    for (const s of evicted) {
      await this.d.refresh.deleteBySession(s.id);
      await this.d.audit.record('session.evicted', { userId: s.userId, sessionId: s.id }, meta, { mode: s.mode, policy });
    }
  }

  // ------------------------------------------------------------------ authentication

  private context(session: SessionRecord, active: ActiveUser): AuthContext | null {
    if (stale(session, active)) return null;
    return { user: active.user, sessionId: session.id, mode: 'session', session, claims: null };
  }

  async authenticateCookie(value: string | undefined): Promise<AuthContext | null> {
    let session = await this.d.sessions.validateCookie(value);
    if (!session) return null;
    const active = await this.d.users.active(session.userId);
    if (!active) return null;
    // A cached copy behind the user's credentials may be of the session that set them (a password
    // change made from it through another instance): read it again before refusing it.
    if (stale(session, active)) session = await this.d.sessions.fresh(session.id);
    return session ? this.context(session, active) : null;
  }

  /** authenticateCookie without extending the idle expiry: for "is my session still live?" checks. */
  async checkCookie(value: string | undefined): Promise<AuthContext | null> {
    const session = await this.d.sessions.peekCookie(value);
    if (!session) return null;
    const active = await this.d.users.active(session.userId);
    return active ? this.context(session, active) : null;
  }

  /** authenticateCookie from the in-process caches alone (no I/O, no promise); undefined when it cannot decide. */
  authenticateCookieCached(value: string | undefined): AuthContext | null | undefined {
    const session = this.d.sessions.validateCookieCached(value);
    if (!session) return session;
    const active = this.d.users.activeCached(session.userId);
    if (active === undefined || stale(session, active)) return undefined;
    return this.context(session, active);
  }

  /**
   * A bearer token: its signature (cached once verified), the revocation set, and the user. A token this
   * instance has not verified before is also confirmed against its session (a cached read, a store read
   * at most once per cache period), so a revocation older than what the feed retains still holds.
   */
  async authenticateBearer(token: string): Promise<AuthContext | null> {
    const d = this.d;
    const seen = d.tokens.verifyCached(token);
    const claims = seen === undefined ? await d.tokens.verify(token) : seen;
    if (!claims || d.revocations.has(claims.sid)) return null;
    const active = await d.users.active(claims.sub);
    if (!active) return null;
    if (seen === undefined || !d.revocations.trusted) {
      let session = await d.sessions.load(claims.sid);
      if (session && stale(session, active)) session = await d.sessions.fresh(claims.sid);
      if (!session || session.mode !== 'token' || session.userId !== claims.sub || stale(session, active)) return null;
    }
    return { user: active.user, sessionId: claims.sid, mode: 'token', session: null, claims };
  }

  /** authenticateBearer from the caches alone; undefined when authenticateBearer must run. */
  authenticateBearerCached(token: string): AuthContext | null | undefined {
    const claims = this.d.tokens.verifyCached(token);
    if (!claims) return claims;
    const live = this.d.sessions.isLiveCached(claims.sid);
    if (live !== true) return live === false ? null : undefined;
    const active = this.d.users.activeCached(claims.sub);
    if (active === undefined) return undefined;
    return { user: active.user, sessionId: claims.sid, mode: 'token', session: null, claims };
  }

  // ------------------------------------------------------------------ refresh

  /** Rotates a refresh token: a fresh access token and the successor, or null. Reuse ends the whole session. */
  async refresh(presented: string, meta: RequestMeta): Promise<TokenGrant | null> {
    const d = this.d;
    const out = await d.refresh.rotate(presented, (sid) => d.sessions.fresh(sid));
    if (out.kind === 'invalid') return null;
    if (out.kind === 'reused') {
      await this.end(out.sessionId);
      await d.audit.record('refresh.reuse_detected', { userId: out.userId, sessionId: out.sessionId }, meta);
      return null;
    }
    const session = await d.sessions.fresh(out.record.sessionId);
    const active = session ? await d.users.active(session.userId) : null;
    if (!session || !active) return null;
    if (stale(session, active)) {
      await this.end(session.id);
      return null;
    }
    const touched = await d.sessions.touch(session);
    if (!touched) return null;
    const access = await d.tokens.issue(active.user, touched);
    await d.audit.record('refresh', { userId: active.user.id, sessionId: session.id }, meta);
    return { accessToken: access.token, expiresIn: access.expiresIn, refreshToken: out.token, session: touched, user: active.user };
  }

  // ------------------------------------------------------------------ step-up

  /**
   * Raises the level of a live session after the user proved themselves again (re-authentication with
   * a password, or a stronger method): auth time now, methods merged, the level never lowered.
   * `credentialVersion` moves the session onto new credentials the user just set from it.
   */
  async stepUp(sessionId: string, amr: readonly AuthMethod[], credentialVersion?: number): Promise<SessionRecord | null> {
    const s = await this.d.sessions.fresh(sessionId);
    if (!s) return null;
    const merged = mergeMethods(s.amr, amr);
    const acr = s.acr === 'aal2' || assuranceOf(merged) === 'aal2' ? 'aal2' : 'aal1';
    const auth = { authAt: this.d.clock.now(), amr: merged, acr, credentialVersion: credentialVersion ?? s.credentialVersion } as const;
    if (!(await this.d.sessions.setAuth(sessionId, auth))) return null;
    return { ...s, ...auth, amr: merged };
  }

  // ------------------------------------------------------------------ reading

  /** The live session, read fresh from the store (not the cache), or null. */
  fresh(id: string): Promise<SessionRecord | null> {
    return this.d.sessions.fresh(id);
  }

  /** Live sessions of a user, oldest first, without those this instance knows to be revoked. */
  async list(userId: string): Promise<SessionRecord[]> {
    const all = await this.d.sessions.list(userId);
    return all.filter((s) => !this.d.revocations.has(s.id));
  }

  /** A session read through the cache (for following a session another request just started). */
  load(id: string): Promise<SessionRecord | null> {
    return this.d.sessions.load(id);
  }

  data(id: string): Promise<SessionData | null> {
    return this.d.sessions.getData(id);
  }

  patchData(id: string, patch: SessionDataPatch): Promise<'ok' | 'missing' | 'too_large'> {
    return this.d.sessions.patchData(id, patch, this.d.dataMaxBytes);
  }

  // ------------------------------------------------------------------ ending

  /** Tells every instance (this one at once) that these sessions are dead. */
  async publishRevoked(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    const at = this.d.clock.now();
    this.d.revocations.add(ids, at);
    await this.d.publish(ids, at);
  }

  /** Ends one session in both modes: record, refresh tokens, cached copies and live access tokens. */
  async end(id: string): Promise<SessionRecord | null> {
    const rec = await this.d.sessions.delete(id);
    await this.d.refresh.deleteBySession(id);
    await this.publishRevoked([id]);
    return rec;
  }

  /** Ends every session of a user (except `exceptId`). Resolves the ended ids. */
  async endAllOfUser(userId: string, exceptId?: string): Promise<string[]> {
    const ids = await this.d.sessions.deleteAllOfUser(userId, exceptId);
    if (exceptId === undefined) await this.d.refresh.deleteByUser(userId);
    else for (const id of ids) await this.d.refresh.deleteBySession(id);
    await this.publishRevoked(ids);
    return ids;
  }

  async logout(ctx: AuthContext, meta: RequestMeta): Promise<void> {
    await this.end(ctx.sessionId);
    await this.d.audit.record('logout', { userId: ctx.user.id, sessionId: ctx.sessionId }, meta, { mode: ctx.mode });
  }
}
