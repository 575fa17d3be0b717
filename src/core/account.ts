/**
 * What a signed-in user does with their account: devices, step-up (re-authentication), password
 * change, account deletion, and their own security events. Sensitive actions need a recent
 * authentication of the current session.
 */
import { GatehouseError } from '../errors.js';
import type { AssuranceLevel, AuditEvent, Clock, SessionBinding, SessionRecord } from '../ports.js';
import type { Assurance } from './assurance.js';
import type { Audit, RequestMeta } from './audit.js';
import type { PasskeyMethod } from './methods/passkey.js';
import type { PasswordMethod } from './methods/password.js';
import type { AuthMethod } from './methods/proof.js';
import type { TotpMethod } from './methods/totp.js';
import { checkPassword } from './password-policy.js';
import type { PasswordHasher } from './passwords.js';
import type { AccountRemoval } from './removal.js';
import type { AuthContext, SessionControl } from './session-control.js';
import type { UserDirectory } from './users.js';

export interface DeviceSession {
  id: string;
  current: boolean;
  mode: SessionRecord['mode'];
  device: SessionRecord['device'];
  ip: string | null;
  createdAt: number;
  lastSeenAt: number;
  expiresAt: number;
  /** How the session was authenticated (RFC 8176), its level and when the user last proved themselves. */
  amr: string[];
  acr: AssuranceLevel;
  authAt: number;
  /** The device key the session is bound to (DPoP or DBSC), or null. */
  binding: SessionBinding | null;
}

/** What a step-up presents: the password, a TOTP code or a passkey assertion (a password may come with a code). */
export interface ReauthInput {
  password?: string;
  totp?: string;
  webauthn?: unknown;
}

export type ReauthResult = 'ok' | 'invalid_credentials' | 'invalid_otp' | 'invalid_webauthn';

export interface AccountDeps {
  sessions: SessionControl;
  password: PasswordMethod;
  totp: TotpMethod;
  passkeys: PasskeyMethod;
  assurance: Assurance;
  users: UserDirectory;
  removal: AccountRemoval;
  hasher: PasswordHasher;
  audit: Audit;
  clock: Clock;
  /** How long a sign-in or re-authentication counts as recent (ms). */
  reauthWindowMs: number;
}

export class Account {
  constructor(private readonly d: AccountDeps) {}

  async listSessions(ctx: AuthContext): Promise<DeviceSession[]> {
    const list = await this.d.sessions.list(ctx.user.id);
    return list.map((s) => ({
      id: s.id,
      current: s.id === ctx.sessionId,
      mode: s.mode,
      device: s.device,
      ip: s.ip,
      createdAt: s.createdAt,
      lastSeenAt: s.lastSeenAt,
      expiresAt: Math.min(s.idleExpiresAt, s.expiresAt),
      amr: s.amr,
      acr: s.acr,
      authAt: s.authAt,
      binding: s.binding,
    }));
  }

  /**
   * Throws reauth_required (with the level needed) unless the current session proved the user within
   * the window at `level` — by default the level this user's sensitive actions need: aal2 once they
   * have a second factor. Resolves the fresh session record.
   */
  requireRecentAuth(ctx: AuthContext, level?: AssuranceLevel): Promise<SessionRecord> {
    return this.d.assurance.requireRecent(ctx, level);
  }

  /**
   * Step-up: the session's auth time moves to now and its methods and level are raised. A user with a
   * second factor steps up with it (a TOTP code or a passkey); the password alone would not reach the
   * level their sensitive actions need, so it is refused with reauth_required (aal2) without being
   * checked. Resolves 'ok' or the failure's code.
   */
  async reauth(ctx: AuthContext, input: ReauthInput, meta: RequestMeta): Promise<ReauthResult> {
    const who = { userId: ctx.user.id, sessionId: ctx.sessionId };
    const second = input.totp !== undefined || input.webauthn !== undefined;
    if (!second && (await this.d.assurance.hasSecondFactor(ctx.user.id))) {
      throw new GatehouseError('reauth_required', 'a second factor is required', { acr: 'aal2' });
    }
    const amr: AuthMethod[] = [];
    let failure: ReauthResult | null = null;
    if (input.password !== undefined) {
      if (await this.d.password.verifyUser(ctx.user.id, input.password)) amr.push('pwd');
      else failure = 'invalid_credentials';
    }
    if (failure === null && input.totp !== undefined) {
      if (await this.d.totp.verify(ctx.user.id, input.totp)) amr.push('otp');
      else failure = 'invalid_otp';
    } else if (failure === null && input.webauthn !== undefined) {
      const r = await this.d.passkeys.verify(input.webauthn, 'webauthn.reauth', ctx.sessionId, ctx.user.id);
      if (r.ok) amr.push(...r.amr);
      else failure = 'invalid_webauthn';
    }
    const stepped = failure === null && amr.length > 0 ? await this.d.sessions.stepUp(ctx.sessionId, amr) : null;
    if (!stepped) {
      await this.d.audit.record('reauth.failed', who, meta, { reason: failure ?? 'session_ended' });
      return failure ?? 'invalid_credentials';
    }
    await this.d.audit.record('reauth.succeeded', who, meta, { amr: stepped.amr.join(' '), acr: stepped.acr });
    return 'ok';
  }

  /** Passkey request options for a step-up of this session; null when the user has no passkey. */
  async reauthOptions(ctx: AuthContext) {
    if (!(await this.d.passkeys.has(ctx.user.id))) return null;
    return this.d.passkeys.requestOptions('webauthn.reauth', ctx.user.id, ctx.sessionId);
  }

  /**
   * Ends one of the user's sessions. The current one may always be ended; another needs recent auth.
   * An unknown handle and another user's handle are the same `not_found`.
   */
  async revokeSession(ctx: AuthContext, handle: string, meta: RequestMeta): Promise<void> {
    const target = await this.d.sessions.fresh(handle);
    if (!target || target.userId !== ctx.user.id) throw new GatehouseError('not_found', 'no such session');
    if (target.id !== ctx.sessionId) await this.requireRecentAuth(ctx);
    await this.d.sessions.end(target.id);
    await this.d.audit.record('session.revoked', { userId: ctx.user.id, sessionId: ctx.sessionId }, meta, { revoked: target.id, mode: target.mode });
  }

  async logoutOthers(ctx: AuthContext, meta: RequestMeta): Promise<number> {
    await this.requireRecentAuth(ctx);
    const ids = await this.d.sessions.endAllOfUser(ctx.user.id, ctx.sessionId);
    await this.d.audit.record('sessions.revoked_others', { userId: ctx.user.id, sessionId: ctx.sessionId }, meta, { count: ids.length });
    return ids.length;
  }

  async logoutAll(ctx: AuthContext, meta: RequestMeta): Promise<number> {
    await this.requireRecentAuth(ctx);
    const ids = await this.d.sessions.endAllOfUser(ctx.user.id);
    await this.d.audit.record('sessions.revoked_all', { userId: ctx.user.id, sessionId: ctx.sessionId }, meta, { count: ids.length });
    return ids.length;
  }

  /**
   * Changes the password (current one required, plus recent auth) and ends every other session.
   *
   * The current session carries on under the new credentials: it is moved to the next credential
   * version before the password is set, so it is never behind the user while the others are ended.
   * If another change moved the version meanwhile, no session of the user is trusted, this one included.
   */
  async changePassword(ctx: AuthContext, current: string, next: string, meta: RequestMeta): Promise<void> {
    await this.requireRecentAuth(ctx);
    const pw = checkPassword(next);
    if (!pw.ok) throw new GatehouseError(pw.code, pw.code, { field: 'new_password' });
    const proof = await this.d.password.verifyUser(ctx.user.id, current);
    if (!proof) throw new GatehouseError('invalid_credentials', 'current password is wrong', { field: 'current_password' });
    const hash = await this.d.hasher.hash(pw.normalized);
    const target = proof.user.credentialVersion + 1;
    await this.d.sessions.stepUp(ctx.sessionId, proof.amr, target);
    const version = await this.d.users.setPassword(ctx.user.id, hash);
    if (version !== target) {
      await this.d.sessions.endAllOfUser(ctx.user.id);
      throw new GatehouseError('unauthenticated', 'the account changed during the password change');
    }
    const ended = await this.d.sessions.endAllOfUser(ctx.user.id, ctx.sessionId);
    await this.d.audit.record('password.changed', { userId: ctx.user.id, sessionId: ctx.sessionId }, meta, { sessions_ended: ended.length });
  }

  /** Deletes the account (see AccountRemoval: the trail keeps no address or user agent of it). */
  async deleteAccount(ctx: AuthContext): Promise<void> {
    await this.requireRecentAuth(ctx);
    await this.d.removal.remove(ctx.user.id, ctx.sessionId);
  }

  /** The user's own events, newest first; `before` is the cursor from the previous page. */
  async events(ctx: AuthContext, opts: { before?: string; limit: number }): Promise<{ events: AuditEvent[]; next: string | null }> {
    const limit = Math.min(Math.max(opts.limit, 1), 100);
    const events = await this.d.audit.list({ userId: ctx.user.id, limit: limit + 1, ...(opts.before ? { before: opts.before } : {}) });
    const page = events.slice(0, limit);
    return { events: page, next: events.length > limit ? page[page.length - 1]!.id : null };
  }
}
