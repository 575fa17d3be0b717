/**
 * The account lifecycle: email verification, password reset and email change, all driven by
 * one-time links.
 *
 * A link carries a split token `id.secret` (128-bit id, 256-bit secret); the store keeps only
 * sha256(secret). Each token is single use (the store's consume is atomic), short-lived, and bound
 * to its purpose and to the account state it was made for — the password hash and the canonical
 * email (and, for an email change, the pending address) — so a reset link dies as soon as the
 * password changes, and a verification link dies when the address changes. Every failure is the
 * same answer (`null`): unknown, used, expired, wrong purpose and stale tokens are not told apart.
 *
 * Mail goes through a `MailQueue` that never blocks or fails the caller; the token only ever
 * appears in the link inside the message.
 */
import { GatehouseError } from '../errors.js';
import type { OneTimePurpose, OneTimeTokenRecord, UserRecord } from '../ports.js';
import type { Account } from './account.js';
import type { AuthContext, AuthCore, CoreLogger } from './auth.js';
import type { RequestMeta } from './audit.js';
import { b64url, newSplitToken, parseSplitToken, safeEqual, secretMatches, sha256 } from './crypto.js';
import { normalizeEmail } from './email.js';
import { checkPassword } from './password-policy.js';

export type LifecycleMailKind = 'verify_email' | 'password_reset' | 'email_change_confirm' | 'email_change_notice' | 'password_changed';

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

interface Redeemed {
  user: UserRecord;
  record: OneTimeTokenRecord;
  /** email_change: the new address (display form). */
  pending: string | null;
}

export class Lifecycle {
  /** Work started after a request was answered (reset requests), awaited by `settled()`. */
  private readonly background = new Set<Promise<void>>();

  constructor(
    private readonly core: AuthCore,
    private readonly account: Account,
    private readonly mail: MailQueue,
    private readonly logger: CoreLogger = { warn() {}, error() {} },
  ) {}

  /** Runs `work` once the current request has been answered; a failure is logged, never surfaced. */
  private later(work: () => Promise<void>): void {
    const p: Promise<void> = new Promise<void>((r) => setImmediate(r))
      .then(work)
      .catch((e: unknown) => this.logger.error({ err: e }, 'password reset request failed'))
      .finally(() => this.background.delete(p));
    this.background.add(p);
  }

  /** Resolves when no background work is left (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.background.size > 0) await Promise.all([...this.background]);
  }

  private get cfg() {
    return this.core.config.lifecycle;
  }

  private ttl(purpose: OneTimePurpose): number {
    return purpose === 'password_reset' ? this.cfg.passwordResetTtl : purpose === 'verify_email' ? this.cfg.emailVerificationTtl : this.cfg.emailChangeTtl;
  }

  /** base64url(sha256(purpose:passwordHash:emailCanonical[:pendingCanonical])). */
  private bindingHash(purpose: OneTimePurpose, user: UserRecord, pendingCanonical?: string): string {
    const parts = [purpose, user.passwordHash, user.emailCanonical];
    if (pendingCanonical !== undefined) parts.push(pendingCanonical);
    return b64url(sha256(parts.join(':')));
  }

  /** Creates and stores a token; resolves the link that carries it. */
  private async issue(user: UserRecord, purpose: OneTimePurpose, pending?: { email: string; canonical: string }): Promise<{ link: string; ttlMs: number }> {
    const now = this.core.clock.now();
    const t = newSplitToken(this.core.random);
    const hash = this.bindingHash(purpose, user, pending?.canonical);
    // The pending address is kept beside the hash (addresses are not secrets; the store holds them anyway).
    const binding = pending ? `${hash}.${Buffer.from(pending.email, 'utf8').toString('base64url')}` : hash;
    const ttlMs = this.ttl(purpose);
    await this.core.stores.oneTimeTokens.createOneTimeToken({ id: t.id, userId: user.id, purpose, secretHash: t.secretHash, binding, createdAt: now, expiresAt: now + ttlMs, usedAt: null });
    return { link: `${this.core.config.publicUrl}${LINK_PATHS[purpose]}#token=${t.token}`, ttlMs };
  }

  /**
   * Checks a presented token for `purpose` against the current account state and, only if every
   * check passes, spends it atomically. Null for anything else.
   */
  private async redeem(presented: string, purpose: OneTimePurpose): Promise<Redeemed | null> {
    const parsed = parseSplitToken(presented);
    if (!parsed) return null;
    const store = this.core.stores.oneTimeTokens;
    const record = await store.getOneTimeToken(parsed.id);
    const now = this.core.clock.now();
    if (!record || !secretMatches(parsed.secret, record.secretHash)) return null;
    if (record.purpose !== purpose || record.usedAt !== null || now >= record.expiresAt) return null;
    const user = await this.core.stores.users.getUserById(record.userId);
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
    if (!(await store.consumeOneTimeToken(record.id, now))) return null;
    return { user, record, pending };
  }

  // ------------------------------------------------------------------ email verification

  /** Sends a verification link to the user's address (registration and resend). */
  async sendVerification(user: UserRecord, meta: RequestMeta): Promise<void> {
    const { link, ttlMs } = await this.issue(user, 'verify_email');
    this.mail.enqueue({ kind: 'verify_email', to: user.email, userId: user.id, acceptLanguage: meta.acceptLanguage ?? null, link, ttlMs });
  }

  /** Resends the link unless the address is already verified. Resolves whether a message was queued. */
  async resendVerification(ctx: AuthContext, meta: RequestMeta): Promise<boolean> {
    const user = await this.core.stores.users.getUserById(ctx.user.id);
    if (!user || user.emailVerifiedAt !== null) return false;
    await this.sendVerification(user, meta);
    await this.core.audit.record('email.verification_sent', { userId: user.id, sessionId: ctx.sessionId }, meta, { reason: 'resend' });
    return true;
  }

  async verifyEmail(token: string, meta: RequestMeta): Promise<boolean> {
    const r = await this.redeem(token, 'verify_email');
    if (!r) return false;
    if (r.user.emailVerifiedAt === null) await this.core.stores.users.markEmailVerified(r.user.id, this.core.clock.now());
    await this.core.stores.oneTimeTokens.deleteOneTimeTokensByUser(r.user.id, 'verify_email');
    await this.core.userChanged(r.user.id);
    await this.core.audit.record('email.verified', { userId: r.user.id }, meta);
    return true;
  }

  // ------------------------------------------------------------------ password reset

  /**
   * Starts a reset. The caller answers at once and the same way for every address: the look-up,
   * the token and the mail all happen after the answer has gone out, so neither the response nor
   * its timing depends on whether the account exists. `mayMail` is the per-address limit: over it
   * nothing is sent (and the answer still does not change).
   */
  requestPasswordReset(emailInput: string, meta: RequestMeta, mayMail: (canonical: string) => Promise<boolean>): void {
    this.later(async () => {
      const email = normalizeEmail(emailInput);
      if (!email) return;
      const user = await this.core.stores.users.getUserByEmail(email.canonical);
      const allowed = await mayMail(email.canonical);
      const send = user !== null && user.disabledAt === null && allowed;
      if (send) {
        const { link, ttlMs } = await this.issue(user, 'password_reset');
        this.mail.enqueue({ kind: 'password_reset', to: user.email, userId: user.id, acceptLanguage: meta.acceptLanguage ?? null, link, ttlMs });
      }
      await this.core.audit.record('password.reset_requested', { userId: user?.id ?? null }, meta, { sent: send, ...(user && !allowed ? { limited: true } : {}) });
    });
  }

  /**
   * Sets a new password from a reset link: the password rules apply first (so a refused password
   * does not spend the link), then the token is spent, the password set, and every session of the
   * account ended in both modes. Completing a reset proves the mailbox, so the address counts as verified.
   */
  async confirmPasswordReset(token: string, newPassword: string, meta: RequestMeta): Promise<boolean> {
    const pw = checkPassword(newPassword);
    if (!pw.ok) throw new GatehouseError(pw.code, pw.code, { field: 'new_password' });
    const hash = await this.core.hasher.hash(pw.normalized);
    const r = await this.redeem(token, 'password_reset');
    if (!r) return false;
    const users = this.core.stores.users;
    await users.setPasswordHash(r.user.id, hash);
    if (r.user.emailVerifiedAt === null) await users.markEmailVerified(r.user.id, this.core.clock.now());
    const ended = await this.core.revokeUserSessions(r.user.id);
    await this.core.stores.oneTimeTokens.deleteOneTimeTokensByUser(r.user.id, 'password_reset');
    await this.core.userChanged(r.user.id);
    await this.core.audit.record('password.reset', { userId: r.user.id }, meta, { sessions_ended: ended.length });
    this.mail.enqueue({ kind: 'password_changed', to: r.user.email, userId: r.user.id, acceptLanguage: meta.acceptLanguage ?? null });
    return true;
  }

  // ------------------------------------------------------------------ email change

  /**
   * Asks to move the account to a new address (recent authentication required). The new address
   * gets a confirmation link, the old one a notice; nothing changes until the link is used. An
   * address held by another account gets no mail and the same answer (no existence oracle).
   */
  async requestEmailChange(ctx: AuthContext, newEmailInput: string, meta: RequestMeta): Promise<void> {
    await this.account.requireRecentAuth(ctx);
    const next = normalizeEmail(newEmailInput);
    if (!next) throw new GatehouseError('invalid_email', 'invalid email', { field: 'new_email' });
    const user = await this.core.stores.users.getUserById(ctx.user.id);
    if (!user) throw new GatehouseError('unauthenticated', 'user gone');
    if (next.canonical === user.emailCanonical) throw new GatehouseError('invalid_field', 'same email', { field: 'new_email', detail: 'That is already your email address.' });
    const holder = await this.core.stores.users.getUserByEmail(next.canonical);
    await this.core.audit.record('email.change_requested', { userId: user.id, sessionId: ctx.sessionId }, meta, { sent: holder === null });
    if (holder) return;
    const { link, ttlMs } = await this.issue(user, 'email_change', next);
    const lang = meta.acceptLanguage ?? null;
    this.mail.enqueue({ kind: 'email_change_confirm', to: next.email, userId: user.id, acceptLanguage: lang, link, ttlMs });
    this.mail.enqueue({ kind: 'email_change_notice', to: user.email, userId: user.id, acceptLanguage: lang, newEmail: next.email });
  }

  /** Moves the account to the confirmed address; throws email_taken if another account took it meanwhile. */
  async confirmEmailChange(token: string, meta: RequestMeta): Promise<boolean> {
    const r = await this.redeem(token, 'email_change');
    if (!r || r.pending === null) return false;
    const next = normalizeEmail(r.pending)!;
    const out = await this.core.stores.users.changeEmail(r.user.id, next.email, next.canonical, this.core.clock.now());
    if (out === 'missing') return false;
    if (out === 'taken') throw new GatehouseError('email_taken', 'email taken', { field: 'new_email' });
    // Links made for the old address are void now (their binding names it); drop them outright.
    await this.core.stores.oneTimeTokens.deleteOneTimeTokensByUser(r.user.id);
    await this.core.userChanged(r.user.id);
    await this.core.audit.record('email.changed', { userId: r.user.id }, meta);
    return true;
  }
}
