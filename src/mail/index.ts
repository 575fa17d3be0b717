/**
 * Mail for the account lifecycle: choosing a Mailer from config, and the outbox that renders and
 * delivers lifecycle messages, auditing each failure as `mail.failed`.
 */
import type { GatehouseConfig } from '../config.js';
import type { AuthCore, CoreLogger } from '../core/auth.js';
import type { Account } from '../core/account.js';
import { Lifecycle, type LifecycleMail } from '../core/lifecycle.js';
import type { Mailer, MailMessage } from '../ports.js';
import { createLogMailer, type InfoLogger } from './log-mailer.js';
import { Outbox } from './outbox.js';
import { createSmtpMailer } from './smtp.js';
import { pickLocale, renderMail } from './templates/index.js';

export { createLogMailer } from './log-mailer.js';
export { createSmtpMailer, describeSmtpUrl } from './smtp.js';
export { Outbox, categorize, type MailFailure, type MailFailureCategory } from './outbox.js';
export { pickLocale, renderMail } from './templates/index.js';

const LOCAL_URL = /^https?:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/i;

/** Whether the public URL is this machine: only then may mail go to the log instead of SMTP. */
export function isLocalPublicUrl(publicUrl: string): boolean {
  return LOCAL_URL.test(publicUrl);
}

/** Refuses a config that would have no way to deliver mail (throws naming GATEHOUSE_SMTP_URL). */
export function checkMailConfig(config: GatehouseConfig): void {
  if (config.mail.smtpUrl || isLocalPublicUrl(config.publicUrl)) return;
  throw new Error(
    `GATEHOUSE_SMTP_URL is required: GATEHOUSE_PUBLIC_URL (${config.publicUrl}) is not localhost, so verification and password-reset mail must go through SMTP (e.g. GATEHOUSE_SMTP_URL=smtp://user:pass@smtp.example.com:587)`,
  );
}

export function mailFrom(config: GatehouseConfig): string {
  if (config.mail.from) return config.mail.from;
  return `Gatehouse <no-reply@${new URL(config.publicUrl).hostname}>`;
}

export interface ChosenMailer {
  mailer: Mailer & { close?(): void };
  kind: 'smtp' | 'log';
  /** Safe to log: `smtp://host:port` or `log`. */
  describe: string;
}

/** SMTP when GATEHOUSE_SMTP_URL is set, otherwise the development mailer writing to `logger`. */
export function mailerFromConfig(config: GatehouseConfig, logger: InfoLogger): ChosenMailer {
  if (config.mail.smtpUrl) {
    const m = createSmtpMailer(config.mail.smtpUrl, mailFrom(config));
    return { mailer: m, kind: 'smtp', describe: m.describe };
  }
  return { mailer: createLogMailer(logger), kind: 'log', describe: 'log' };
}

/** Renders a lifecycle message in the language its request asked for. */
export function renderLifecycleMail(config: GatehouseConfig, mail: LifecycleMail): MailMessage {
  const site = new URL(config.publicUrl).host;
  const vars = {
    site,
    ...(mail.link ? { link: mail.link } : {}),
    ...(mail.ttlMs ? { ttlMinutes: Math.round(mail.ttlMs / 60_000) } : {}),
    ...(mail.newEmail ? { newEmailMasked: maskEmail(mail.newEmail) } : {}),
  };
  const r = renderMail(mail.kind, pickLocale(mail.acceptLanguage), vars);
  return { to: mail.to, ...r };
}

/** `alice@example.com` → `a•••@example.com`: enough for the owner to recognise, little for a snoop. */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at <= 0) return '•••';
  return `${[...email.slice(0, at)][0]}•••${email.slice(at)}`;
}

/** The outbox for `core`: renders, delivers through `mailer`, audits failures as `mail.failed`. */
export function createOutbox(core: AuthCore, mailer: Mailer, logger?: CoreLogger): Outbox {
  const cfg = core.config;
  return new Outbox({
    mailer,
    render: (m) => renderLifecycleMail(cfg, m),
    maxAttempts: cfg.mail.maxAttempts,
    baseDelayMs: cfg.mail.retryBase,
    async onFailure(mail, f) {
      logger?.warn({ mail: { kind: f.kind, attempt: f.attempt, category: f.category, final: f.final } }, f.final ? 'mail given up' : 'mail failed; will retry');
      await core.audit.record('mail.failed', { userId: mail.userId }, null, { kind: f.kind, attempt: f.attempt, category: f.category, final: f.final });
    },
  });
}

export interface LifecycleHandle {
  lifecycle: Lifecycle;
  outbox: Outbox;
  /** Stops the outbox (waiting briefly for sends in flight) and closes a mailer built here. */
  close(): Promise<void>;
}

/**
 * Wires the lifecycle for `core`: the given mailer, else SMTP from `config.mail.smtpUrl`, else none
 * (messages are dropped with a warning — the standalone server always passes one). Registration
 * sends a verification link.
 */
export function createLifecycle(core: AuthCore, account: Account, mailer: Mailer | undefined, logger?: CoreLogger): LifecycleHandle {
  let own: (Mailer & { close?(): void }) | null = null;
  if (!mailer && core.config.mail.smtpUrl) own = createSmtpMailer(core.config.mail.smtpUrl, mailFrom(core.config));
  const chosen: Mailer = mailer ?? own ?? {
    async send() {
      logger?.warn({}, 'no mailer configured: a verification, reset or email-change message was not sent (pass `mailer` or set GATEHOUSE_SMTP_URL)');
    },
  };
  const outbox = createOutbox(core, chosen, logger);
  const lifecycle = new Lifecycle(core, account, outbox, logger);
  core.onRegistered.push((user, meta) => lifecycle.sendVerification(user, meta));
  return {
    lifecycle,
    outbox,
    async close() {
      await Promise.race([lifecycle.settled(), new Promise((r) => setTimeout(r, 5000).unref())]);
      await outbox.close();
      own?.close?.();
    },
  };
}
