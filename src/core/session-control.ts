/**
 * Sessions as use cases: the one session start every way in calls, authentication of a request from
 * either transport, refresh, step-up, and ending sessions (with the revocation that reaches every
 * instance). Cache, feed, credential-version and audit rules live here and nowhere else.
 */
import type { AuditEvent, AuditEventType, Clock, SessionBinding, SessionData, SessionDataPatch, SessionMode, SessionRecord } from '../ports.js';
import type { Audit, RequestMeta } from './audit.js';
import type { BoundCookie, DeviceBoundSessions } from './dbsc.js';
import { parseDevice } from './device.js';
import type { Dpop, DpopRequest } from './dpop.js';
import { assuranceOf, mergeMethods, type AuthMethod, type Proof } from './methods/proof.js';
import type { RefreshTokens } from './refresh.js';
import type { RevocationSet } from './revocations.js';
import type { SessionManager } from './sessions.js';
import { boundJkt, type AccessClaims, type AccessTokens } from './tokens.js';
import { toPublicUser, type ActiveUser, type PublicUser, type UserDirectory } from './users.js';
import type { Telemetry } from './telemetry.js';

/** Who is making a request, as established by authentication. */
export interface AuthContext {
  user: PublicUser;
  sessionId: string;
  mode: SessionMode;
  /** The session record (cookie mode) or null when it was not read (bearer mode reads no store in the steady state). */
  session: SessionRecord | null;
  /** Bearer mode: the verified access-token claims. */
  claims: AccessClaims | null;
  /** The device key the credential is bound to: DPoP (token), DBSC (cookie), or null. */
  binding: SessionBinding['kind'] | null;
}

export interface TokenGrant {
  accessToken: string;
  /** `DPoP` when the tokens are bound to the client's key (RFC 9449), else `Bearer`. */
  tokenType: 'Bearer' | 'DPoP';
  expiresIn: number;
  refreshToken: string;
  session: SessionRecord;
  user: PublicUser;
}

/**
 * A started session and its transport's credential. A cookie session carries `bindingChallenge`
 * when browsers are offered Device Bound Session Credentials: the challenge to register a key with.
 */
export type Started =
  | { mode: 'session'; user: PublicUser; session: SessionRecord; cookie: string; bindingChallenge: string | null }
  | { mode: 'token'; user: PublicUser; session: SessionRecord; grant: TokenGrant };

/** How a request presents a token: as a bearer token, or as a DPoP-bound one with its proof. */
export type TokenPresentation = { scheme: 'Bearer' } | { scheme: 'DPoP'; dpop: DpopRequest };

/**
 * A credential refused for its proof of possession rather than for itself: a bad or missing DPoP
 * proof, a proof without the current server nonce, or a DBSC-bound cookie without a live bound cookie.
 */
export interface PopRefusal {
  refused: 'invalid_dpop_proof' | 'use_dpop_nonce' | 'device_unverified';
  reason: string;
}

export function isPopRefusal(x: unknown): x is PopRefusal {
  return typeof x === 'object' && x !== null && 'refused' in x;
}

/** What the DBSC refresh endpoint answers. */
export type DeviceRefresh =
  /** Sign this challenge (a 403 with `Secure-Session-Challenge`). */
  | { kind: 'challenge'; sessionId: string; challenge: string }
  /** A fresh bound cookie, and the challenge for the next refresh. */
  | { kind: 'refreshed'; session: SessionRecord; cookie: BoundCookie; next: string }
  /** The session is gone (ended, expired, or not this browser's): the browser stops refreshing it. */
  | { kind: 'ended' }
  | { kind: 'refused'; reason: string };

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
  /**
   * Token mode: the thumbprint of the key a verified DPoP proof of this request was signed with.
   * The session, its access tokens and its refresh tokens are then bound to that key.
   */
  dpopJkt?: string;
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

const BEARER: TokenPresentation = { scheme: 'Bearer' };
const UNVERIFIED: PopRefusal = { refused: 'device_unverified', reason: 'the session is bound to a device and the bound cookie is missing or expired' };

const tokenTypeOf = (s: SessionRecord): TokenGrant['tokenType'] => (s.binding?.kind === 'dpop' ? 'DPoP' : 'Bearer');

export interface SessionControlDeps {
  sessions: SessionManager;
  refresh: RefreshTokens;
  tokens: AccessTokens;
  revocations: RevocationSet;
  users: UserDirectory;
  audit: Audit;
  clock: Clock;
  dataMaxBytes: number;
  dpop: Dpop;
  dbsc: DeviceBoundSessions;
  /** Where refresh outcomes are reported (metrics); a no-op by default. */
  telemetry?: Telemetry;
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
    const binding: SessionBinding | null = mode === 'token' && req.dpopJkt !== undefined ? { kind: 'dpop', jkt: req.dpopJkt } : null;
    const created = await d.sessions.create(
      proof.user.id,
      mode,
      { ip: meta.ip, device: parseDevice(meta.userAgent), amr: proof.amr, acr: proof.acr, credentialVersion: proof.user.credentialVersion, binding },
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
        mode === 'session'
          ? { mode, user, session: record, cookie: created.token!, bindingChallenge: d.dbsc.enabled ? await d.dbsc.registrationChallenge(record.id) : null }
          : { mode, user, session: record, grant: await this.grant(user, record) };
      const event = req.event ?? { type: 'login.succeeded' as const };
      await d.audit.record(event.type, { userId: user.id, sessionId: record.id }, meta, {
        mode,
        amr: proof.amr.join(' '),
        ...(req.expiresAtMost !== undefined ? { capped: record.expiresAt === req.expiresAtMost } : {}),
        ...(data !== 'none' ? { data: data === 'ok' ? 'carried' : data } : {}),
        ...(binding ? { binding: binding.kind } : {}),
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
    return { accessToken: access.token, tokenType: tokenTypeOf(session), expiresIn: access.expiresIn, refreshToken, session, user };
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
    return { user: active.user, sessionId: session.id, mode: 'session', session, claims: null, binding: session.binding?.kind ?? null };
  }

  /**
   * A session cookie, and for a session bound with DBSC its short bound cookie (`bound`). A bound
   * session without a live bound cookie is refused (`device_unverified`), whatever the long cookie.
   */
  async authenticateCookie(value: string | undefined, bound?: string): Promise<AuthContext | PopRefusal | null> {
    let session = await this.d.sessions.validateCookie(value);
    if (!session) return null;
    const active = await this.d.users.active(session.userId);
    if (!active) return null;
    // A cached copy behind the user's credentials may be of the session that set them (a password
    // change made from it through another instance): read it again before refusing it.
    if (stale(session, active)) session = await this.d.sessions.fresh(session.id);
    if (!session) return null;
    if (session.binding?.kind === 'dbsc' && !(await this.d.dbsc.checkCookie(bound, session))) return UNVERIFIED;
    return this.context(session, active);
  }

  /** authenticateCookie without extending the idle expiry: for "is my session still live?" checks. */
  async checkCookie(value: string | undefined, bound?: string): Promise<AuthContext | PopRefusal | null> {
    const session = await this.d.sessions.peekCookie(value);
    if (!session) return null;
    const active = await this.d.users.active(session.userId);
    if (!active) return null;
    if (session.binding?.kind === 'dbsc' && !(await this.d.dbsc.checkCookie(bound, session))) return UNVERIFIED;
    return this.context(session, active);
  }

  /** authenticateCookie from the in-process caches alone (no I/O, no promise); undefined when it cannot decide. */
  authenticateCookieCached(value: string | undefined, bound?: string): AuthContext | PopRefusal | null | undefined {
    const session = this.d.sessions.validateCookieCached(value);
    if (!session) return session;
    const active = this.d.users.activeCached(session.userId);
    if (active === undefined || stale(session, active)) return undefined;
    if (session.binding?.kind === 'dbsc') {
      const ok = this.d.dbsc.checkCookieCached(bound, session);
      if (ok === undefined) return undefined;
      if (!ok) return UNVERIFIED;
    }
    return this.context(session, active);
  }

  /**
   * An access token: its signature (cached once verified), the revocation set, and the user. A token
   * this instance has not verified before is also confirmed against its session (a cached read, a store
   * read at most once per cache period), so a revocation older than what the feed retains still holds.
   *
   * A token bound to a DPoP key is accepted only as `DPoP` with a valid proof signed by that key (a
   * bound token presented as `Bearer` is refused), and a `DPoP` presentation only for a bound token.
   * The proof is checked last, once everything else holds, so a bad token costs no replay-store write.
   */
  async authenticateBearer(token: string, how: TokenPresentation = BEARER): Promise<AuthContext | PopRefusal | null> {
    const d = this.d;
    const seen = d.tokens.verifyCached(token);
    const claims = seen === undefined ? await d.tokens.verify(token) : seen;
    if (!claims || d.revocations.has(claims.sid)) return null;
    const jkt = boundJkt(claims);
    if ((jkt === undefined) !== (how.scheme === 'Bearer')) return null;
    if (jkt === undefined && d.dpop.mode === 'required') return null;
    const active = await d.users.active(claims.sub);
    if (!active) return null;
    if (seen === undefined || !d.revocations.trusted) {
      let session = await d.sessions.load(claims.sid);
      if (session && stale(session, active)) session = await d.sessions.fresh(claims.sid);
      if (!session || session.mode !== 'token' || session.userId !== claims.sub || stale(session, active)) return null;
    }
    if (how.scheme === 'DPoP') {
      const r = await d.dpop.check(how.dpop, token);
      if (!r.ok) return { refused: r.error, reason: r.reason };
      if (r.jkt !== jkt) return { refused: 'invalid_dpop_proof', reason: 'the proof is not signed by the key the token is bound to' };
    }
    return { user: active.user, sessionId: claims.sid, mode: 'token', session: null, claims, binding: jkt === undefined ? null : 'dpop' };
  }

  /**
   * authenticateBearer from the caches alone; undefined when authenticateBearer must run (always for
   * a DPoP presentation: its proof is verified per request).
   */
  authenticateBearerCached(token: string): AuthContext | null | undefined {
    const claims = this.d.tokens.verifyCached(token);
    if (!claims) return claims;
    // A bound token is worth nothing without its proof.
    if (boundJkt(claims) !== undefined || this.d.dpop.mode === 'required') return null;
    const live = this.d.sessions.isLiveCached(claims.sid);
    if (live !== true) return live === false ? null : undefined;
    const active = this.d.users.activeCached(claims.sub);
    if (active === undefined) return undefined;
    return { user: active.user, sessionId: claims.sid, mode: 'token', session: null, claims, binding: null };
  }

  // ------------------------------------------------------------------ refresh

  /**
   * Rotates a refresh token: a fresh access token and the successor, or null. Reuse ends the whole
   * session. `dpopJkt` is the key of the request's verified DPoP proof (undefined without one): a
   * session bound to a key is refreshed only with a proof signed by that key, and a refusal leaves the
   * refresh token unspent (the holder of the key can still use it) and is audited as possible theft.
   */
  async refresh(presented: string, meta: RequestMeta, dpopJkt?: string): Promise<TokenGrant | PopRefusal | null> {
    const d = this.d;
    let refused: { session: SessionRecord; reason: string } | null = null;
    const out = await d.refresh.rotate(presented, async (sid) => {
      const s = await d.sessions.fresh(sid);
      if (!s) return null;
      const bound = s.binding?.kind === 'dpop' ? s.binding.jkt : undefined;
      if (bound !== undefined && dpopJkt !== bound) refused = { session: s, reason: dpopJkt === undefined ? 'no_proof' : 'wrong_key' };
      else if (bound === undefined && d.dpop.mode === 'required') refused = { session: s, reason: 'unbound' };
      return refused ? null : s;
    });
    if (refused) {
      const r: { session: SessionRecord; reason: string } = refused;
      await d.audit.record('session.proof_refused', { userId: r.session.userId, sessionId: r.session.id }, meta, { binding: 'dpop', via: 'refresh', reason: r.reason });
      this.d.telemetry?.refreshed('proof_refused');
      return { refused: 'invalid_dpop_proof', reason: r.reason === 'unbound' ? 'DPoP is required and this session is not bound to a key' : 'the refresh token is bound to another key' };
    }
    const t = d.telemetry;
    if (out.kind === 'invalid') {
      t?.refreshed('invalid');
      return null;
    }
    if (out.kind === 'reused') {
      await this.end(out.sessionId);
      await d.audit.record('refresh.reuse_detected', { userId: out.userId, sessionId: out.sessionId }, meta);
      t?.refreshed('reuse_detected');
      return null;
    }
    const session = await d.sessions.fresh(out.record.sessionId);
    const active = session ? await d.users.active(session.userId) : null;
    if (!session || !active) {
      t?.refreshed('invalid');
      return null;
    }
    if (stale(session, active)) {
      await this.end(session.id);
      t?.refreshed('invalid');
      return null;
    }
    const touched = await d.sessions.touch(session);
    if (!touched) {
      t?.refreshed('invalid');
      return null;
    }
    const access = await d.tokens.issue(active.user, touched);
    await d.audit.record('refresh', { userId: active.user.id, sessionId: session.id }, meta);
    t?.refreshed('rotated');
    return { accessToken: access.token, tokenType: tokenTypeOf(touched), expiresIn: access.expiresIn, refreshToken: out.token, session: touched, user: active.user };
  }

  // ------------------------------------------------------------------ device-bound cookie sessions (DBSC)

  /** The live cookie session a long-lived cookie names (its bound cookie aside), with a live user. */
  private async cookieSession(value: string | undefined): Promise<SessionRecord | null> {
    const session = await this.d.sessions.validateCookie(value);
    if (!session) return null;
    const active = await this.d.users.active(session.userId);
    return active && !stale(session, active) ? session : null;
  }

  /**
   * Registers the browser's key for the cookie session `cookie` names: the proof must answer a
   * challenge this session was offered and be signed by the key it carries. The session is then bound
   * (once: a bound session never takes another key) and the first bound cookie is issued.
   */
  async registerDevice(cookie: string | undefined, proof: string, registrationUrl: string, meta: RequestMeta): Promise<{ ok: true; session: SessionRecord; cookie: BoundCookie } | { ok: false; status: 'unauthenticated' | 'refused'; reason: string }> {
    const d = this.d;
    const session = await this.cookieSession(cookie);
    if (!session) return { ok: false, status: 'unauthenticated', reason: 'no live session cookie' };
    if (session.binding !== null) return { ok: false, status: 'refused', reason: 'the session is already bound to a key' };
    const v = await d.dbsc.verifyRegistration(session, proof, registrationUrl);
    if (!v.ok) return { ok: false, status: 'refused', reason: v.reason };
    const binding: SessionBinding = { kind: 'dbsc', jkt: v.jkt, key: v.key };
    const r = await d.sessions.bind(session.id, binding);
    if (r !== 'ok') return r === 'missing' ? { ok: false, status: 'unauthenticated', reason: 'the session ended' } : { ok: false, status: 'refused', reason: 'the session is already bound to a key' };
    await d.audit.record('session.bound', { userId: session.userId, sessionId: session.id }, meta, { binding: 'dbsc' });
    const bound = { ...session, binding };
    return { ok: true, session: bound, cookie: await d.dbsc.issueCookie(session.id, v.jkt, session.expiresAt) };
  }

  /**
   * The DBSC refresh: `sessionId` from `Sec-Secure-Session-Id` must be the bound session the long
   * cookie names. Without a proof the browser gets a challenge; with a valid one, a new bound cookie
   * (and the next challenge). A proof signed by another key is audited as possible theft.
   */
  async refreshDevice(cookie: string | undefined, sessionId: string, proof: string | undefined, refreshUrl: string, meta: RequestMeta): Promise<DeviceRefresh> {
    const d = this.d;
    const session = await this.cookieSession(cookie);
    if (!session || session.id !== sessionId || session.binding?.kind !== 'dbsc') return { kind: 'ended' };
    if (proof === undefined) return { kind: 'challenge', sessionId: session.id, challenge: await d.dbsc.challenge(session.id) };
    const v = await d.dbsc.verifyRefresh(session, proof, refreshUrl);
    if (!v.ok) {
      if (v.retry) return { kind: 'challenge', sessionId: session.id, challenge: await d.dbsc.challenge(session.id) };
      await d.audit.record('session.proof_refused', { userId: session.userId, sessionId: session.id }, meta, { binding: 'dbsc', via: 'refresh', reason: v.reason.slice(0, 80) });
      return { kind: 'refused', reason: v.reason };
    }
    const touched = (await d.sessions.touch(session)) ?? session;
    return { kind: 'refreshed', session: touched, cookie: await d.dbsc.issueCookie(session.id, session.binding.jkt, session.expiresAt), next: await d.dbsc.nextChallenge(session.id) };
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
