/**
 * The account lifecycle: registration, email verification, password reset and email change, all
 * driven by one-time links.
 *
 * A link carries a split token `id.secret` (128-bit id, 256-bit secret); the store keeps only
 * sha256(secret). Each token is single use (the store's consume is atomic), short-lived, and bound
 * to its purpose and to the account state it was made for — the password hash and the canonical
 * email (and, for an email change, the pending address) — so a reset link dies as soon as the
 * password changes, and a verification link dies when the address changes. Every failure is the
 * same answer: unknown, used, expired, wrong purpose and stale tokens are not told apart.
 *
 * Registration is no account-existence oracle and cannot squat an address: a taken address gets the
 * same answer, and its owner a message with a reset link (which also takes back an account someone
 * else created with their address); a verification link verifies only for someone who holds the
 * account it was made for, so the owner clicking a link they did not ask for verifies nobody.
 *
 * Mail goes through a `MailQueue` that never blocks or fails the caller; the token only ever
 * appears in the link inside the message.
 */
import { GatehouseError } from '../errors.js';
import type { Clock, OneTimePurpose, OneTimeTokenRecord, OneTimeTokenStore, Random, UserRecord } from '../ports.js';
import type { Assurance } from './assurance.js';
import type { Audit, RequestMeta } from './audit.js';
import { b64url, newSplitToken, parseSplitToken, randomId, safeEqual, secretMatches, sha256 } from './crypto.js';
import { normalizeEmail } from './email.js';
import type { PasswordMethod } from './methods/password.js';
import { checkPassword } from './password-policy.js';
import type { PasswordHasher } from './passwords.js';
import type { AuthContext, SessionControl } from './session-control.js';
import { toPublicUser, type PublicUser, type UserDirectory } from './users.js';

export type LifecycleMailKind =
  | 'verify_email'
  | 'password_reset'
  | 'email_change_confirm'
  | 'email_change_notice'
  | 'password_changed'
  | 'already_registered'
  | 'recovery_code_used'
  | 'mfa_reset';

/** A message to send, before rendering: the outbox picks the language and the template. */
export interface LifecycleMail {
  kind: LifecycleMailKind;
  to: string;
  userId: string;
  /** The request's Accept-Language header (null: the default language). */
  acceptLanguage: string | null;
  /** The action link; it holds the token, so it must never be logged. */
  link?: string;
  ttlMs?: number;
  /** The requested new address (email-change notice to the old address). */
  newEmail?: string;
  /** Recovery codes left after one was used. */
  remaining?: number;
}

/** Takes a message for delivery and returns at once; delivery failures are its own business. */
export interface MailQueue {
  enqueue(mail: LifecycleMail): void;
}

/** Where each kind of link points in the web UI. The token travels in the fragment, never to a server log. */
export const LINK_PATHS = {
  verify_email: '/verify-email',
  password_reset: '/reset',
  email_change: '/confirm-email',
} as const satisfies Record<OneTimePurpose, string>;

export interface LifecycleConfig {
  publicUrl: string;
  passwordResetTtl: number;
  emailVerificationTtl: number;
  emailChangeTtl: number;
}

export interface LifecycleLogger {
  error(obj: object, msg?: string): void;
}

export interface LifecycleDeps {
  users: UserDirectory;
  oneTimeTokens: OneTimeTokenStore;
  sessions: SessionControl;
  password: PasswordMethod;
  hasher: PasswordHasher;
  audit: Audit;
  clock: Clock;
  random: Random;
  config: LifecycleConfig;
  mail: MailQueue;
  logger: LifecycleLogger;
  /** What the account's sensitive changes need (aal2 once the user has a second factor). */
  assurance: Assurance;
}

/** Says whether a message may go to an address now (the per-address mail budget). */
export type MayMail = (canonical: string) => Promise<boolean>;

export type VerifyOutcome = 'verified' | 'invalid' | 'sign_in_required' | 'wrong_password';

interface Redeemed {
  user: UserRecord;
  record: OneTimeTokenRecord;
  /** email_change: the new address (display form). */
  pending: string | null;
}

export class Lifecycle {
  /** Work started after a request was answered (reset requests, repeated registrations), awaited by `settled()`. */
  private readonly background = new Set<Promise<void>>();

  constructor(private readonly d: LifecycleDeps) {}

  /** Runs `work` once the current request has been answered; a failure is logged, never surfaced. */
  private later(what: string, work: () => Promise<void>): void {
    const p: Promise<void> = new Promise<void>((r) => setImmediate(r))
      .then(work)
      .catch((e: unknown) => this.d.logger.error({ err: e }, `${what} failed`))
      .finally(() => this.background.delete(p));
    this.background.add(p);
  }

  /** Resolves when no background work is left (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.background.size > 0) await Promise.all([...this.background]);
  }

  private ttl(purpose: OneTimePurpose): number {
    const c = this.d.config;
    return purpose === 'password_reset' ? c.passwordResetTtl : purpose === 'verify_email' ? c.emailVerificationTtl : c.emailChangeTtl;
  }

  /** base64url(sha256(purpose:passwordHash:emailCanonical[:pendingCanonical])). */
  private bindingHash(purpose: OneTimePurpose, user: UserRecord, pendingCanonical?: string): string {
    const parts = [purpose, user.passwordHash, user.emailCanonical];
    if (pendingCanonical !== undefined) parts.push(pendingCanonical);
    return b64url(sha256(parts.join(':')));
  }

  /** Creates and stores a token; resolves the link that carries it. */
  private async issue(user: UserRecord, purpose: OneTimePurpose, pending?: { email: string; canonical: string }): Promise<{ link: string; ttlMs: number }> {
    const now = this.d.clock.now();
    const t = newSplitToken(this.d.random);
    const hash = this.bindingHash(purpose, user, pending?.canonical);
    // The pending address is kept beside the hash (addresses are not secrets; the store holds them anyway).
    const binding = pending ? `${hash}.${Buffer.from(pending.email, 'utf8').toString('base64url')}` : hash;
    const ttlMs = this.ttl(purpose);
    await this.d.oneTimeTokens.createOneTimeToken({ id: t.id, userId: user.id, purpose, secretHash: t.secretHash, binding, createdAt: now, expiresAt: now + ttlMs, usedAt: null });
    return { link: `${this.d.config.publicUrl}${LINK_PATHS[purpose]}#token=${t.token}`, ttlMs };
  }

  /**
   * Checks a presented token for `purpose` against the current account state without spending it.
   * Null for anything but a live, unspent token of that purpose that still matches the account.
   */
  private async check(presented: string, purpose: OneTimePurpose): Promise<Redeemed | null> {
    const parsed = parseSplitToken(presented);
    if (!parsed) return null;
    const record = await this.d.oneTimeTokens.getOneTimeToken(parsed.id);
    const now = this.d.clock.now();
    if (!record || !secretMatches(parsed.secret, record.secretHash)) return null;
    if (record.purpose !== purpose || record.usedAt !== null || now >= record.expiresAt) return null;
    const user = await this.d.users.record(record.userId);
    if (!user || user.disabledAt !== null) return null;
    let pending: string | null = null;
    let expected: string;
    const dot = record.binding.indexOf('.');
    if (purpose === 'email_change') {
      if (dot < 0) return null;
      pending = Buffer.from(record.binding.slice(dot + 1), 'base64url').toString('utf8');
      const norm = normalizeEmail(pending);
      if (!norm) return null;
      expected = this.bindingHash(purpose, user, norm.canonical);
    } else {
      expected = this.bindingHash(purpose, user);
    }
    const stored = dot < 0 ? record.binding : record.binding.slice(0, dot);
    if (!safeEqual(Buffer.from(stored), Buffer.from(expected))) return null;
    return { user, record, pending };
  }

  /** `check`, then spends the token atomically: exactly one of concurrent redemptions succeeds. */
  private async redeem(presented: string, purpose: OneTimePurpose): Promise<Redeemed | null> {
    const r = await this.check(presented, purpose);
    if (!r || !(await this.d.oneTimeTokens.consumeOneTimeToken(r.record.id, this.d.clock.now()))) return null;
    return r;
  }

  private async newUser(emailInput: string, passwordInput: string): Promise<UserRecord> {
    const email = normalizeEmail(emailInput);
    if (!email) throw new GatehouseError('invalid_email', 'invalid email', { field: 'email' });
    const pw = checkPassword(passwordInput);
    if (!pw.ok) throw new GatehouseError(pw.code, pw.code, { field: 'password' });
    return {
      id: randomId(this.d.random),
      email: email.email,
      emailCanonical: email.canonical,
      passwordHash: await this.d.hasher.hash(pw.normalized),
      createdAt: this.d.clock.now(),
      disabledAt: null,
      emailVerifiedAt: null,
      credentialVersion: 0,
      admin: false,
    };
  }

  // ------------------------------------------------------------------ registration

  /**
   * Registers a user. An address that is already registered gets the same response shape (a fresh,
   * unsaved user), so registration is no account-existence oracle; after the answer has gone out,
   * the owner of that address is sent a reset link (within the per-address mail budget).
   */
  async register(emailInput: string, passwordInput: string, meta: RequestMeta, mayMail: MayMail): Promise<PublicUser> {
    const user = await this.newUser(emailInput, passwordInput);
    if (await this.d.users.create(user)) {
      await this.d.audit.record('user.registered', { userId: user.id }, meta);
      await this.sendVerification(user, meta);
    } else {
      this.later('registration notice', async () => {
        const owner = await this.d.users.byEmail(user.emailCanonical);
        if (!owner || owner.disabledAt !== null || !(await mayMail(user.emailCanonical))) return;
        const { link, ttlMs } = await this.issue(owner, 'password_reset');
        this.d.mail.enqueue({ kind: 'already_registered', to: owner.email, userId: owner.id, acceptLanguage: meta.acceptLanguage ?? null, link, ttlMs });
        await this.d.audit.record('user.registration_repeated', { userId: owner.id }, meta);
      });
    }
    return toPublicUser(user);
  }

  /** Creates a user without the registration answer's disguise (the operator's `user add`); null when the address is taken. */
  async createUser(emailInput: string, passwordInput: string, meta: RequestMeta): Promise<PublicUser | null> {
    const user = await this.newUser(emailInput, passwordInput);
    if (!(await this.d.users.create(user))) return null;
    await this.d.audit.record('user.registered', { userId: user.id }, meta, { by: 'operator' });
    return toPublicUser(user);
  }

  // ------------------------------------------------------------------ email verification

  /** Sends a verification link to the user's address (registration and resend). */
  async sendVerification(user: UserRecord, meta: RequestMeta): Promise<void> {
    const { link, ttlMs } = await this.issue(user, 'verify_email');
    this.d.mail.enqueue({ kind: 'verify_email', to: user.email, userId: user.id, acceptLanguage: meta.acceptLanguage ?? null, link, ttlMs });
  }

  /** Resends the link unless the address is already verified. Resolves whether a message was queued. */
  async resendVerification(ctx: AuthContext, meta: RequestMeta): Promise<boolean> {
    const user = await this.d.users.record(ctx.user.id);
    if (!user || user.emailVerifiedAt !== null) return false;
    await this.sendVerification(user, meta);
    await this.d.audit.record('email.verification_sent', { userId: user.id, sessionId: ctx.sessionId }, meta, { reason: 'resend' });
    return true;
  }

  /**
   * Verifies the address a link was made for — only for someone who holds that account: signed in to
   * it, or giving its password with the link (`sign_in_required` otherwise, and the link stays
   * usable). Whoever registered knows the password; the owner of a mailbox someone else registered
   * does not, and verifies nothing by clicking the link.
   */
  async verifyEmail(token: string, holder: { ctx: AuthContext | null; password?: string }, meta: RequestMeta): Promise<VerifyOutcome> {
    const pre = await this.check(token, 'verify_email');
    if (!pre) return 'invalid';
    const ctx = holder.ctx && holder.ctx.user.id === pre.user.id ? holder.ctx : null;
    if (!ctx) {
      if (holder.password === undefined) return 'sign_in_required';
      if (!(await this.d.password.verifyUser(pre.user.id, holder.password))) return 'wrong_password';
    }
    const r = await this.redeem(token, 'verify_email');
    if (!r) return 'invalid';
    if (r.user.emailVerifiedAt === null) await this.d.users.markEmailVerified(r.user.id);
    await this.d.oneTimeTokens.deleteOneTimeTokensByUser(r.user.id, 'verify_email');
    await this.d.audit.record('email.verified', { userId: r.user.id, sessionId: ctx?.sessionId ?? null }, meta);
    return 'verified';
  }

  // ------------------------------------------------------------------ password reset

  /**
   * Starts a reset. The caller answers at once and the same way for every address: the look-up,
   * the token and the mail all happen after the answer has gone out, so neither the response nor
   * its timing depends on whether the account exists. `mayMail` is the per-address limit: over it
   * nothing is sent (and the answer still does not change).
   */
  requestPasswordReset(emailInput: string, meta: RequestMeta, mayMail: MayMail): void {
    this.later('password reset request', async () => {
      const email = normalizeEmail(emailInput);
      if (!email) return;
      const user = await this.d.users.byEmail(email.canonical);
      const allowed = await mayMail(email.canonical);
      const send = user !== null && user.disabledAt === null && allowed;
      if (send) {
        const { link, ttlMs } = await this.issue(user, 'password_reset');
        this.d.mail.enqueue({ kind: 'password_reset', to: user.email, userId: user.id, acceptLanguage: meta.acceptLanguage ?? null, link, ttlMs });
      }
      await this.d.audit.record('password.reset_requested', { userId: user?.id ?? null }, meta, { sent: send, ...(user && !allowed ? { limited: true } : {}) });
    });
  }

  /**
   * Sets a new password from a reset link. The password rules apply first (so a refused password does
   * not spend the link), then the token is checked — before any hashing, so made-up tokens cost a
   * store read, not an argon2 hash — then the password is hashed, the token spent, the password set,
   * and every session of the account ended in both modes. Completing a reset proves the mailbox, so
   * the address counts as verified.
   */
  async confirmPasswordReset(token: string, newPassword: string, meta: RequestMeta): Promise<boolean> {
    const pw = checkPassword(newPassword);
    if (!pw.ok) throw new GatehouseError(pw.code, pw.code, { field: 'new_password' });
    if (!(await this.check(token, 'password_reset'))) return false;
    const hash = await this.d.hasher.hash(pw.normalized);
    const r = await this.redeem(token, 'password_reset');
    if (!r) return false;
    await this.d.users.setPassword(r.user.id, hash);
    if (r.user.emailVerifiedAt === null) await this.d.users.markEmailVerified(r.user.id);
    const ended = await this.d.sessions.endAllOfUser(r.user.id);
    await this.d.oneTimeTokens.deleteOneTimeTokensByUser(r.user.id, 'password_reset');
    await this.d.audit.record('password.reset', { userId: r.user.id }, meta, { sessions_ended: ended.length });
    this.d.mail.enqueue({ kind: 'password_changed', to: r.user.email, userId: r.user.id, acceptLanguage: meta.acceptLanguage ?? null });
    return true;
  }

  // ------------------------------------------------------------------ email change

  /**
   * Asks to move the account to a new address. Needs the current password, not just a recent sign-in:
   * the address is where reset links go, so moving it is as sensitive as the password. With
   * `endOtherSessions`, every other session of the account ends now. The new address gets a
   * confirmation link and the old one a notice; nothing changes until the link is used. An address
   * held by another account gets no mail, and neither the answer nor the requester's events say so.
   */
  async requestEmailChange(ctx: AuthContext, newEmailInput: string, currentPassword: string, opts: { endOtherSessions: boolean }, meta: RequestMeta): Promise<{ sessionsEnded: number }> {
    const next = normalizeEmail(newEmailInput);
    if (!next) throw new GatehouseError('invalid_email', 'invalid email', { field: 'new_email' });
    // With a second factor, the password alone does not move the account: a recent aal2 step-up does.
    if ((await this.d.assurance.hasSecondFactor(ctx.user.id))) await this.d.assurance.requireRecent(ctx, 'aal2');
    const proof = await this.d.password.verifyUser(ctx.user.id, currentPassword);
    if (!proof) throw new GatehouseError('invalid_credentials', 'current password is wrong', { field: 'current_password' });
    const user = proof.user;
    if (next.canonical === user.emailCanonical) throw new GatehouseError('invalid_field', 'same email', { field: 'new_email', detail: 'That is already your email address.' });
    await this.d.sessions.stepUp(ctx.sessionId, proof.amr);
    const ended = opts.endOtherSessions ? await this.d.sessions.endAllOfUser(user.id, ctx.sessionId) : [];
    const holder = await this.d.users.byEmail(next.canonical);
    await this.d.audit.record('email.change_requested', { userId: user.id, sessionId: ctx.sessionId }, meta, opts.endOtherSessions ? { sessions_ended: ended.length } : null);
    const lang = meta.acceptLanguage ?? null;
    if (!holder) {
      const { link, ttlMs } = await this.issue(user, 'email_change', next);
      this.d.mail.enqueue({ kind: 'email_change_confirm', to: next.email, userId: user.id, acceptLanguage: lang, link, ttlMs });
    }
    this.d.mail.enqueue({ kind: 'email_change_notice', to: user.email, userId: user.id, acceptLanguage: lang, newEmail: next.email });
    return { sessionsEnded: ended.length };
  }

  /** Moves the account to the confirmed address; throws email_taken if another account took it meanwhile. */
  async confirmEmailChange(token: string, meta: RequestMeta): Promise<boolean> {
    const r = await this.redeem(token, 'email_change');
    if (!r || r.pending === null) return false;
    const next = normalizeEmail(r.pending)!;
    const out = await this.d.users.changeEmail(r.user.id, next.email, next.canonical);
    if (out === 'missing') return false;
    if (out === 'taken') throw new GatehouseError('email_taken', 'email taken', { field: 'new_email' });
    // Links made for the old address are void now (their binding names it); drop them outright.
    await this.d.oneTimeTokens.deleteOneTimeTokensByUser(r.user.id);
    await this.d.audit.record('email.changed', { userId: r.user.id }, meta);
    return true;
  }

  // ------------------------------------------------------------------ mail failures

  /** Records a failed delivery (never the message: its link holds a token). */
  async mailFailed(mail: LifecycleMail, failure: { kind: string; attempt: number; category: string; final: boolean }): Promise<void> {
    await this.d.audit.record('mail.failed', { userId: mail.userId }, null, { kind: failure.kind, attempt: failure.attempt, category: failure.category, final: failure.final });
  }
}
