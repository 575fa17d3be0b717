/**
 * What an operator does, from the CLI or the admin API: find, search and list users, create one,
 * disable, enable or delete it, end its sessions, reset its second factors, resend its verification
 * mail, grant or revoke the administrator role, manage signing keys, search the audit trail and sweep
 * expired rows. Each action goes through the same rules as the user's own (revocation on every
 * instance, the feed, the trail); an administrator's action records their id as the event's `actor`.
 */
import { GatehouseError } from '../errors.js';
import type { AuditEvent, AuditEventType, AuditQuery, Clock, IdentityRecord, KeyRecord, PasskeyRecord, SessionMode, SessionRecord, SessionStore, IdentityStore, UserRecord, UserSearchQuery } from '../ports.js';
import type { Assurance } from './assurance.js';
import type { Audit, RequestMeta } from './audit.js';
import { normalizeEmail } from './email.js';
import type { KeyRing } from './keys.js';
import type { PasskeyMethod } from './methods/passkey.js';
import type { RecoveryCodes } from './methods/recovery.js';
import type { TotpMethod } from './methods/totp.js';
import type { Lifecycle, MailQueue } from './lifecycle.js';
import type { Sweeper, SweepResult } from './maintenance.js';
import type { AccountRemoval } from './removal.js';
import type { AuthContext, SessionControl } from './session-control.js';
import type { PublicUser, UserDirectory, UserListQuery } from './users.js';

export interface AdminDeps {
  users: UserDirectory;
  sessions: SessionControl;
  removal: AccountRemoval;
  lifecycle: Lifecycle;
  keys: KeyRing;
  audit: Audit;
  sweeper: Sweeper;
  factors: { totp: TotpMethod; recovery: RecoveryCodes; passkeys: PasskeyMethod };
  mail: MailQueue;
  /** Tells every instance to reload the key ring. */
  keysChanged(): Promise<void>;
  assurance: Assurance;
  identities: IdentityStore;
  /** For counting live sessions only (the console's panel). */
  sessionStore: SessionStore;
  clock: Clock;
}

/** An administrator acting through the admin API: their authenticated request. */
export interface AdminActor {
  ctx: AuthContext;
  meta: RequestMeta;
}

/** A user as the admin API shows it, with their sessions, second factors (metadata only) and identities. */
export interface AdminUserView {
  user: UserRecord;
  sessions: Array<SessionRecord & { provider: string | null }>;
  factors: { totp: boolean; recoveryCodes: number; passkeys: PasskeyRecord[] };
  identities: IdentityRecord[];
}

export interface AdminStats {
  /** Sign-in outcomes in the window, from the audit trail. */
  logins: { since: number; succeeded: number; failed: number; mfaRequired: number };
  /** Live sessions per mode (sampled: at most one count per `SESSION_COUNT_TTL_MS`). */
  sessions: Record<SessionMode, number> & { countedAt: number };
}

/** How long a session count is reused: a Redis count scans every user. */
export const SESSION_COUNT_TTL_MS = 10_000;
const LOGIN_TYPES: AuditEventType[] = ['login.succeeded', 'login.failed', 'mfa.required'];

/** The opaque cursor of a user search: the position (creation time, id) of the last user shown. */
export function encodeUserCursor(u: Pick<UserRecord, 'createdAt' | 'id'>): string {
  return Buffer.from(`${u.createdAt.toString(36)}.${u.id}`, 'utf8').toString('base64url');
}

/** The position a cursor names, or null for anything this server did not make. */
export function decodeUserCursor(cursor: string): { createdAt: number; id: string } | null {
  if (!/^[A-Za-z0-9_-]{3,400}$/.test(cursor)) return null;
  const m = /^([0-9a-z]{1,11})\.([A-Za-z0-9_-]{1,255})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!m) return null;
  const createdAt = parseInt(m[1]!, 36);
  return Number.isSafeInteger(createdAt) ? { createdAt, id: m[2]! } : null;
}

export class Admin {
  private sessionCount: AdminStats['sessions'] | null = null;

  constructor(private readonly d: AdminDeps) {}

  // ------------------------------------------------------------------ the admin API's gate

  /**
   * The gate of every admin API request: the user holds the administrator role now (read fresh: a
   * revoked role counts at once) and the session proved them recently at the highest level they
   * have — aal2 once they have a second factor (reauth_required with that level otherwise).
   */
  async authorize(ctx: AuthContext): Promise<void> {
    const u = await this.d.users.record(ctx.user.id);
    if (!u || !u.admin || u.disabledAt !== null) throw new GatehouseError('admin_required', 'not an administrator');
    await this.d.assurance.requireRecent(ctx);
  }

  private async target(actor: AdminActor, userId: string, notSelf = false): Promise<UserRecord> {
    const u = await this.d.users.record(userId);
    if (!u) throw new GatehouseError('not_found', 'no such user');
    // Locking oneself out is never what an administrator meant; another administrator can do it.
    if (notSelf && u.id === actor.ctx.user.id) throw new GatehouseError('forbidden', 'own account', { detail: 'Administrators cannot do this to their own account here.' });
    return u;
  }

  private record(type: AuditEventType, actor: AdminActor, userId: string, detail: Record<string, string | number | boolean | null> = {}): Promise<void> {
    return this.d.audit.record(type, { userId }, actor.meta, { ...detail, actor: actor.ctx.user.id });
  }

  /** Users matching the query, and the cursor of the next page (null on the last). */
  async searchUsers(q: UserSearchQuery): Promise<{ users: UserRecord[]; next: string | null }> {
    const users = await this.d.users.search({ ...q, limit: q.limit + 1 });
    const page = users.slice(0, q.limit);
    return { users: page, next: users.length > q.limit ? encodeUserCursor(page[page.length - 1]!) : null };
  }

  async viewUser(userId: string): Promise<AdminUserView | null> {
    const user = await this.d.users.record(userId);
    if (!user) return null;
    const f = this.d.factors;
    const [sessions, federated, totp, recoveryCodes, passkeys, identities] = await Promise.all([
      this.d.sessions.list(userId),
      this.d.identities.listFederatedSessions(userId),
      f.totp.enrolled(userId),
      f.recovery.count(userId),
      f.passkeys.list(userId),
      this.d.identities.listIdentities(userId),
    ]);
    const provider = new Map(federated.map((s) => [s.sessionId, s.provider]));
    return { user, sessions: sessions.map((s) => ({ ...s, provider: provider.get(s.id) ?? null })), factors: { totp, recoveryCodes, passkeys }, identities };
  }

  /** Disables or enables a user for an administrator (not their own account). */
  async setDisabledBy(actor: AdminActor, userId: string, disabled: boolean): Promise<void> {
    await this.target(actor, userId, disabled);
    await this.setDisabled(userId, disabled, actor.meta, actor.ctx.user.id);
  }

  async deleteUserBy(actor: AdminActor, userId: string): Promise<void> {
    await this.target(actor, userId, true);
    await this.d.removal.remove(userId, null, { admin: actor.ctx.user.id });
  }

  /** Ends one session of the user (either mode) on every instance. */
  async endSessionBy(actor: AdminActor, userId: string, sessionId: string): Promise<void> {
    const s = await this.d.sessions.fresh(sessionId);
    if (!s || s.userId !== userId) throw new GatehouseError('not_found', 'no such session');
    await this.d.sessions.end(s.id);
    await this.record('session.revoked', actor, userId, { revoked: s.id, mode: s.mode });
  }

  /** Ends every session of the user in both modes. Resolves how many. */
  async endSessionsBy(actor: AdminActor, userId: string): Promise<number> {
    await this.target(actor, userId);
    const ended = await this.d.sessions.endAllOfUser(userId);
    await this.record('sessions.revoked_all', actor, userId, { count: ended.length });
    return ended.length;
  }

  async resetMfaBy(actor: AdminActor, userId: string): Promise<{ totp: boolean; recoveryCodes: number; passkeys: number }> {
    await this.target(actor, userId, true);
    const out = await this.resetMfa(userId, actor.meta, actor.ctx.user.id);
    if (!out) throw new GatehouseError('not_found', 'no such user');
    return out;
  }

  /** Sends the verification link again; false when the address is verified already. */
  async resendVerificationBy(actor: AdminActor, userId: string): Promise<boolean> {
    const u = await this.target(actor, userId);
    if (u.emailVerifiedAt !== null) return false;
    await this.d.lifecycle.sendVerification(u, { ...actor.meta, acceptLanguage: null });
    await this.record('email.verification_sent', actor, userId, { reason: 'admin' });
    return true;
  }

  /** Sign-in outcomes since `since` and live sessions per mode. */
  async stats(since: number): Promise<AdminStats> {
    const now = this.d.clock.now();
    const counts = await this.d.audit.count(since, LOGIN_TYPES);
    if (!this.sessionCount || now - this.sessionCount.countedAt >= SESSION_COUNT_TTL_MS) {
      this.sessionCount = { ...(await this.d.sessionStore.countLiveSessions(now)), countedAt: now };
    }
    return {
      logins: { since, succeeded: counts['login.succeeded'] ?? 0, failed: counts['login.failed'] ?? 0, mfaRequired: counts['mfa.required'] ?? 0 },
      sessions: this.sessionCount,
    };
  }

  // ------------------------------------------------------------------ the role (command line)

  /** Grants or revokes the administrator role. False when there is no such user. */
  async setAdmin(userId: string, admin: boolean, meta: RequestMeta | null = null): Promise<boolean> {
    const ok = await this.d.users.setAdmin(userId, admin);
    if (ok) await this.d.audit.record(admin ? 'admin.granted' : 'admin.revoked', { userId }, meta, { by: 'operator' });
    return ok;
  }

  // ------------------------------------------------------------------ operator actions

  async findUserByEmail(email: string): Promise<UserRecord | null> {
    const n = normalizeEmail(email);
    return n ? this.d.users.byEmail(n.canonical) : null;
  }

  findUser(id: string): Promise<UserRecord | null> {
    return this.d.users.record(id);
  }

  listUsers(q: UserListQuery): Promise<UserRecord[]> {
    return this.d.users.list(q);
  }

  /** Creates a user with a password (null when the address is taken). */
  createUser(email: string, password: string, meta: RequestMeta): Promise<PublicUser | null> {
    return this.d.lifecycle.createUser(email, password, meta);
  }

  /** Disables (or re-enables) a user; disabling ends every live session at once, on every instance. */
  async setDisabled(userId: string, disabled: boolean, meta: RequestMeta | null = null, actor: string | null = null): Promise<boolean> {
    const ok = await this.d.users.setDisabled(userId, disabled);
    if (!ok) return false;
    if (disabled) await this.d.sessions.endAllOfUser(userId);
    await this.d.audit.record(disabled ? 'user.disabled' : 'user.enabled', { userId }, meta, actor ? { actor } : null);
    return true;
  }

  /** Deletes a user and everything of theirs; every live session fails at once. */
  deleteUser(userId: string): Promise<boolean> {
    return this.d.removal.remove(userId);
  }

  /**
   * Removes every second factor of a user (authenticator app, recovery codes, passkeys) and ends their
   * sessions, for a user who lost them. Audited, and the owner is told by mail. Resolves what was removed.
   */
  async resetMfa(userId: string, meta: RequestMeta | null = null, actor: string | null = null): Promise<{ totp: boolean; recoveryCodes: number; passkeys: number } | null> {
    const user = await this.d.users.record(userId);
    if (!user) return null;
    const f = this.d.factors;
    const totp = await f.totp.remove(userId);
    const recoveryCodes = await f.recovery.remove(userId);
    const passkeys = await f.passkeys.removeAll(userId);
    const ended = await this.d.sessions.endAllOfUser(userId);
    await this.d.audit.record('mfa.reset', { userId }, meta, { totp, recovery_codes: recoveryCodes, passkeys, sessions_ended: ended.length, ...(actor ? { actor } : {}) });
    this.d.mail.enqueue({ kind: 'mfa_reset', to: user.email, userId, acceptLanguage: null });
    return { totp, recoveryCodes, passkeys };
  }

  /** Ends every session of a user in both modes. Resolves how many. */
  async endSessions(userId: string): Promise<number> {
    return (await this.d.sessions.endAllOfUser(userId)).length;
  }

  listKeys(): Promise<KeyRecord[]> {
    return this.d.keys.list();
  }

  /** A new signing key; old keys verify until their tokens expire. */
  async rotateKey(): Promise<KeyRecord> {
    const k = await this.d.keys.rotate();
    await this.d.keysChanged();
    return k;
  }

  /** Stops a key signing (`immediately`: verifying too). False when there is no such key. */
  async retireKey(kid: string, immediately = false): Promise<boolean> {
    const ok = await this.d.keys.retire(kid, immediately);
    if (ok) await this.d.keysChanged();
    return ok;
  }

  auditEvents(q: AuditQuery): Promise<AuditEvent[]> {
    return this.d.audit.list(q);
  }

  /** Removes expired sessions, tokens and audit events past retention now. */
  sweep(): Promise<SweepResult> {
    return this.d.sweeper.runOnce();
  }
}
