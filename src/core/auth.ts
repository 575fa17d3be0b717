/**
 * The core, assembled: registration, login in both modes, validation, refresh, logout and revocation.
 * Transport-free: the HTTP adapters call these methods and map results and GatehouseErrors to HTTP.
 */
import type { GatehouseConfig } from '../config.js';
import { GatehouseError } from '../errors.js';
import type { Clock, Random, SessionMode, SessionRecord, Stores, UserRecord } from '../ports.js';
import { Audit, type RequestMeta } from './audit.js';
import { randomId } from './crypto.js';
import { parseDevice } from './device.js';
import { normalizeEmail } from './email.js';
import { KeyRing } from './keys.js';
import { checkPassword } from './password-policy.js';
import { PasswordHasher } from './passwords.js';
import { RefreshTokens } from './refresh.js';
import { RevocationSet } from './revocations.js';
import { SessionManager } from './sessions.js';
import { AccessTokens, type AccessClaims, type ClaimsHook } from './tokens.js';
import { toPublicUser, UserCache, type PublicUser } from './users.js';

export interface CoreLogger {
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface CoreDeps {
  config: GatehouseConfig;
  stores: Stores;
  clock: Clock;
  random: Random;
  claims?: ClaimsHook;
  logger?: CoreLogger;
}

/** Who is making a request, as established by `authenticate`. */
export interface AuthContext {
  user: PublicUser;
  sessionId: string;
  mode: SessionMode;
  /** The session record (cookie mode) or null when it was not read (bearer mode reads no store). */
  session: SessionRecord | null;
  /** Bearer mode: the verified access-token claims. */
  claims: AccessClaims | null;
}

export type LoginFailure = 'unknown_email' | 'bad_password' | 'disabled' | 'bad_input';

export interface TokenGrant {
  accessToken: string;
  expiresIn: number;
  refreshToken: string;
  session: SessionRecord;
  user: PublicUser;
}

export type LoginResult =
  | { ok: true; mode: 'session'; user: PublicUser; session: SessionRecord; cookie: string }
  | { ok: true; mode: 'token'; grant: TokenGrant }
  | { ok: false; reason: LoginFailure };

export class AuthCore {
  readonly config: GatehouseConfig;
  readonly stores: Stores;
  readonly clock: Clock;
  readonly random: Random;
  readonly hasher: PasswordHasher;
  readonly audit: Audit;
  readonly keys: KeyRing;
  readonly revocations: RevocationSet;
  readonly sessions: SessionManager;
  readonly tokens: AccessTokens;
  readonly refresh: RefreshTokens;
  readonly users: UserCache;
  private readonly logger: CoreLogger;
  /** Run after a new account is stored (the lifecycle sends its verification link from here). */
  readonly onRegistered: Array<(user: UserRecord, meta: RequestMeta) => Promise<void>> = [];

  constructor(deps: CoreDeps) {
    const { config, stores, clock, random } = deps;
    this.config = config;
    this.stores = stores;
    this.clock = clock;
    this.random = random;
    this.logger = deps.logger ?? { warn() {}, error() {} };
    this.hasher = new PasswordHasher(config.passwordHashing);
    this.audit = new Audit(stores.audit, clock, random);
    const tokenLife = config.token.accessTtl + config.token.clockSkew;
    this.keys = new KeyRing(stores.keys, { alg: config.token.alg, secret: config.secret, verifyWindowMs: Math.max(tokenLife, config.token.maxAge) }, clock, random);
    this.users = new UserCache(stores.users, clock, config.cacheMaxEntries, 60_000);
    // Revocations must outlive every access token and every cache entry they could affect.
    const horizon = Math.max(tokenLife, config.token.maxAge, 60_000) + 60_000;
    this.revocations = new RevocationSet(stores.feed, clock, horizon, {
      keysChanged: () => void this.keys.reload().catch((e) => this.logger.error({ err: e }, 'key reload failed')),
      userChanged: (id) => this.users.forget(id),
      error: (e) => this.logger.warn({ err: e }, 'revocation replay failed; reading sessions from the store until it succeeds'),
    });
    const times = (m: 'session' | 'token') =>
      m === 'session'
        ? { idleTtlMs: config.session.idleTtl, absoluteTtlMs: config.session.absoluteTtl, renewIntervalMs: config.session.renewInterval, maxPerUser: config.session.single ? 1 : config.session.maxPerUser }
        : { idleTtlMs: config.token.refreshIdleTtl, absoluteTtlMs: config.token.refreshAbsoluteTtl, renewIntervalMs: config.session.renewInterval, maxPerUser: config.token.single ? 1 : config.token.maxPerUser };
    this.sessions = new SessionManager(stores.sessions, this.revocations, { session: times('session'), token: times('token'), cacheMaxEntries: config.cacheMaxEntries, cacheTtlMs: 60_000 }, clock, random);
    this.tokens = new AccessTokens(this.keys, {
      issuer: config.publicUrl,
      audience: config.token.audience,
      accessTtlMs: config.token.accessTtl,
      maxAgeMs: config.token.maxAge,
      clockSkewMs: config.token.clockSkew,
      maxBytes: config.token.maxBytes,
      cacheMaxEntries: config.cacheMaxEntries,
      ...(deps.claims ? { claims: deps.claims } : {}),
    }, clock, random);
    this.refresh = new RefreshTokens(stores.refreshTokens, { idleTtlMs: config.token.refreshIdleTtl, graceMs: config.token.refreshGrace }, clock, random);
    this.revocations.onRevoked((ids) => this.tokens.forgetSessions(new Set(ids)));
  }

  async start(): Promise<void> {
    await this.keys.init();
    this.revocations.start();
    await this.revocations.settled();
  }

  async stop(): Promise<void> {
    this.revocations.stop();
  }

  // ------------------------------------------------------------------ registration and login

  /**
   * Registers a user. An address that is already registered gets the same response shape (a fresh,
   * unsaved user) so registration is no account-existence oracle; the real owner is unaffected.
   */
  async register(emailInput: string, passwordInput: string, meta: RequestMeta): Promise<PublicUser> {
    const email = normalizeEmail(emailInput);
    if (!email) throw new GatehouseError('invalid_email', 'invalid email', { field: 'email' });
    const pw = checkPassword(passwordInput);
    if (!pw.ok) throw new GatehouseError(pw.code, pw.code, { field: 'password' });
    const now = this.clock.now();
    const user: UserRecord = {
      id: randomId(this.random),
      email: email.email,
      emailCanonical: email.canonical,
      passwordHash: await this.hasher.hash(pw.normalized),
      createdAt: now,
      disabledAt: null,
      emailVerifiedAt: null,
    };
    const created = await this.stores.users.createUser(user);
    if (created) {
      await this.audit.record('user.registered', { userId: user.id }, meta);
      for (const hook of this.onRegistered) await hook(user, meta);
    }
    return toPublicUser(user);
  }

  /** Checks an email and password. Every failure takes about as long as a wrong password. */
  async checkCredentials(emailInput: string, passwordInput: string): Promise<{ ok: true; user: UserRecord } | { ok: false; reason: LoginFailure; userId?: string }> {
    const email = normalizeEmail(emailInput);
    const pwBytes = Buffer.byteLength(passwordInput, 'utf8');
    const password = pwBytes <= 1024 ? passwordInput.normalize('NFKC') : null;
    const user = email ? await this.stores.users.getUserByEmail(email.canonical) : null;
    if (!user || password === null) {
      await this.hasher.dummyVerify(password ?? 'x'.repeat(16));
      return { ok: false, reason: email && password !== null ? 'unknown_email' : 'bad_input' };
    }
    const good = await this.hasher.verify(user.passwordHash, password);
    if (!good) return { ok: false, reason: 'bad_password', userId: user.id };
    if (user.disabledAt !== null) return { ok: false, reason: 'disabled', userId: user.id };
    if (this.hasher.needsRehash(user.passwordHash)) {
      const rehashed = await this.hasher.hash(password);
      await this.stores.users.setPasswordHash(user.id, rehashed);
    }
    return { ok: true, user };
  }

  async login(emailInput: string, passwordInput: string, mode: SessionMode, meta: RequestMeta): Promise<LoginResult> {
    const cred = await this.checkCredentials(emailInput, passwordInput);
    if (!cred.ok) {
      await this.audit.record('login.failed', { userId: cred.userId ?? null }, meta, { reason: cred.reason, mode });
      return { ok: false, reason: cred.reason };
    }
    // Checked only after the password, so the answer says nothing to someone without it.
    if (this.config.lifecycle.requireVerifiedEmail && cred.user.emailVerifiedAt === null) {
      await this.audit.record('login.failed', { userId: cred.user.id }, meta, { reason: 'email_unverified', mode });
      throw new GatehouseError('email_unverified', 'email address not verified');
    }
    const user = toPublicUser(cred.user);
    const created = await this.sessions.create(user.id, mode, { ip: meta.ip, device: parseDevice(meta.userAgent) });
    await this.afterEviction(created.evicted, meta);
    await this.audit.record('login.succeeded', { userId: user.id, sessionId: created.record.id }, meta, { mode });
    if (mode === 'session') return { ok: true, mode, user, session: created.record, cookie: created.token! };
    try {
      return { ok: true, mode, grant: await this.grant(user, created.record) };
    } catch (e) {
      // No token could be issued (e.g. a claims hook failed): the session must not outlive the failed login.
      await this.revokeSession(created.record.id).catch(() => {});
      throw e;
    }
  }

  private async grant(user: PublicUser, session: SessionRecord): Promise<TokenGrant> {
    const access = await this.tokens.issue(user, session);
    const refreshToken = await this.refresh.issue(session);
    return { accessToken: access.token, expiresIn: access.expiresIn, refreshToken, session, user };
  }

  private async afterEviction(evicted: SessionRecord[], meta: RequestMeta): Promise<void> {
    if (evicted.length === 0) return;
    const ids = evicted.map((s) => s.id);
    await this.publishRevoked(ids);
    for (const s of evicted) {
      await this.refresh.deleteBySession(s.id);
      await this.audit.record('session.evicted', { userId: s.userId, sessionId: s.id }, meta, { mode: s.mode, policy: this.maxFor(s.mode) === 1 ? 'single' : 'max_sessions' });
    }
  }

  private maxFor(mode: SessionMode): number {
    return this.sessions.times(mode).maxPerUser;
  }

  // ------------------------------------------------------------------ validation

  async authenticateCookie(value: string | undefined): Promise<AuthContext | null> {
    const session = await this.sessions.validateCookie(value);
    if (!session) return null;
    const user = await this.users.get(session.userId);
    if (!user) return null;
    return { user, sessionId: session.id, mode: 'session', session, claims: null };
  }

  async authenticateBearer(token: string): Promise<AuthContext | null> {
    const claims = await this.tokens.verify(token);
    if (!claims) return null;
    if (!(await this.sessions.isLive(claims.sid))) return null;
    const user = await this.users.get(claims.sub);
    if (!user) return null;
    return { user, sessionId: claims.sid, mode: 'token', session: null, claims };
  }

  /**
   * authenticateCookie from the in-process caches alone (no I/O, no promise), for the steady state:
   * undefined when it cannot decide and authenticateCookie must run.
   */
  authenticateCookieCached(value: string | undefined): AuthContext | null | undefined {
    const session = this.sessions.validateCookieCached(value);
    if (!session) return session;
    const user = this.users.getCached(session.userId);
    if (user === undefined) return undefined;
    return { user, sessionId: session.id, mode: 'session', session, claims: null };
  }

  /** authenticateBearer from the caches alone; undefined when authenticateBearer must run. */
  authenticateBearerCached(token: string): AuthContext | null | undefined {
    const claims = this.tokens.verifyCached(token);
    if (!claims) return claims;
    const live = this.sessions.isLiveCached(claims.sid);
    if (live !== true) return live === false ? null : undefined;
    const user = this.users.getCached(claims.sub);
    if (user === undefined) return undefined;
    return { user, sessionId: claims.sid, mode: 'token', session: null, claims };
  }

  // ------------------------------------------------------------------ refresh

  async refreshTokens(presented: string, meta: RequestMeta): Promise<TokenGrant | null> {
    const out = await this.refresh.rotate(presented, (sid) => this.sessions.fresh(sid));
    if (out.kind === 'invalid') return null;
    if (out.kind === 'reused') {
      await this.revokeSession(out.sessionId);
      await this.audit.record('refresh.reuse_detected', { userId: out.userId, sessionId: out.sessionId }, meta);
      return null;
    }
    const session = await this.sessions.fresh(out.record.sessionId);
    const user = session ? await this.users.get(session.userId) : null;
    if (!session || !user) return null;
    const touched = await this.sessions.touch(session);
    const access = await this.tokens.issue(user, touched);
    await this.audit.record('refresh', { userId: user.id, sessionId: session.id }, meta);
    return { accessToken: access.token, expiresIn: access.expiresIn, refreshToken: out.token, session: touched, user };
  }

  // ------------------------------------------------------------------ revocation

  /** Tells every instance (this one at once) that these sessions are dead. */
  async publishRevoked(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    const at = this.clock.now();
    this.revocations.add(ids, at);
    // Bounded events: a feed may carry them in size-limited messages (Postgres NOTIFY: under 8000
    // bytes), and ids vary in length (src/ids.ts), so batches are cut by their JSON size.
    for (const batch of revocationBatches(ids, REVOCATION_EVENT_MAX_BYTES)) {
      await this.stores.feed.publish({ type: 'sessions.revoked', ids: batch, at });
    }
  }

  /** Ends one session in both modes: record, refresh tokens, cached copies and live access tokens. */
  async revokeSession(id: string): Promise<SessionRecord | null> {
    const rec = await this.sessions.delete(id);
    await this.refresh.deleteBySession(id);
    await this.publishRevoked([id]);
    return rec;
  }

  async revokeUserSessions(userId: string, exceptId?: string): Promise<string[]> {
    const ids = await this.sessions.deleteAllOfUser(userId, exceptId);
    if (exceptId === undefined) await this.refresh.deleteByUser(userId);
    else for (const id of ids) await this.refresh.deleteBySession(id);
    await this.publishRevoked(ids);
    return ids;
  }

  async logout(ctx: AuthContext, meta: RequestMeta): Promise<void> {
    await this.revokeSession(ctx.sessionId);
    await this.audit.record('logout', { userId: ctx.user.id, sessionId: ctx.sessionId }, meta, { mode: ctx.mode });
  }

  async userChanged(userId: string): Promise<void> {
    this.users.forget(userId);
    await this.stores.feed.publish({ type: 'user.changed', userId, at: this.clock.now() });
  }

  /** Disables (or re-enables) a user; disabling ends every live session at once. */
  async setUserDisabled(userId: string, disabled: boolean, meta: RequestMeta | null = null): Promise<boolean> {
    const ok = await this.stores.users.setDisabled(userId, disabled ? this.clock.now() : null);
    if (!ok) return false;
    if (disabled) await this.revokeUserSessions(userId);
    await this.userChanged(userId);
    await this.audit.record(disabled ? 'user.disabled' : 'user.enabled', { userId }, meta);
    return true;
  }

  /** Deletes a user and everything of theirs; every live session fails at once. */
  async deleteUser(userId: string, meta: RequestMeta | null = null, sessionId: string | null = null): Promise<boolean> {
    const ids = await this.sessions.deleteAllOfUser(userId);
    await this.refresh.deleteByUser(userId);
    await this.stores.oneTimeTokens.deleteOneTimeTokensByUser(userId);
    const ok = await this.stores.users.deleteUser(userId);
    await this.publishRevoked(ids);
    await this.userChanged(userId);
    if (ok) await this.audit.record('account.deleted', { userId, sessionId }, meta);
    return ok;
  }
}

/** The JSON size bound of one `sessions.revoked` event's ids (Postgres NOTIFY payloads must stay under 8000 bytes). */
export const REVOCATION_EVENT_MAX_BYTES = 6000;

/** Splits ids into batches whose JSON array stays within `maxBytes` (an id longer than that goes alone). */
export function revocationBatches(ids: readonly string[], maxBytes: number): string[][] {
  const out: string[][] = [];
  let cur: string[] = [];
  let size = 2; // []
  for (const id of ids) {
    const n = Buffer.byteLength(JSON.stringify(id)) + 1; // the value and its comma
    if (cur.length > 0 && size + n > maxBytes) {
      out.push(cur);
      cur = [];
      size = 2;
    }
    cur.push(id);
    size += n;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}
