/**
 * What an operator does (the CLI today): find and list users, create one, disable, enable or delete
 * it, end its sessions, manage signing keys, read the audit trail and sweep expired rows. Each action
 * goes through the same rules as the user's own (revocation on every instance, the feed, the trail).
 */
import type { AuditEvent, AuditQuery, KeyRecord, UserRecord } from '../ports.js';
import type { Audit, RequestMeta } from './audit.js';
import { normalizeEmail } from './email.js';
import type { KeyRing } from './keys.js';
import type { PasskeyMethod } from './methods/passkey.js';
import type { RecoveryCodes } from './methods/recovery.js';
import type { TotpMethod } from './methods/totp.js';
import type { Lifecycle, MailQueue } from './lifecycle.js';
import type { Sweeper, SweepResult } from './maintenance.js';
import type { AccountRemoval } from './removal.js';
import type { SessionControl } from './session-control.js';
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
}

export class Admin {
  constructor(private readonly d: AdminDeps) {}

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
  async setDisabled(userId: string, disabled: boolean, meta: RequestMeta | null = null): Promise<boolean> {
    const ok = await this.d.users.setDisabled(userId, disabled);
    if (!ok) return false;
    if (disabled) await this.d.sessions.endAllOfUser(userId);
    await this.d.audit.record(disabled ? 'user.disabled' : 'user.enabled', { userId }, meta);
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
  async resetMfa(userId: string, meta: RequestMeta | null = null): Promise<{ totp: boolean; recoveryCodes: number; passkeys: number } | null> {
    const user = await this.d.users.record(userId);
    if (!user) return null;
    const f = this.d.factors;
    const totp = await f.totp.remove(userId);
    const recoveryCodes = await f.recovery.remove(userId);
    const passkeys = await f.passkeys.removeAll(userId);
    const ended = await this.d.sessions.endAllOfUser(userId);
    await this.d.audit.record('mfa.reset', { userId }, meta, { totp, recovery_codes: recoveryCodes, passkeys, sessions_ended: ended.length });
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
