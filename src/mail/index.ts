/**
 * Mail for the account lifecycle: choosing a Mailer from config, and the outbox that renders and
 * delivers lifecycle messages, auditing each failure as `mail.failed`.
 */
import type { GatehouseConfig } from '../config.js';
import type { LifecycleMail } from '../core/lifecycle.js';
import type { Mailer, MailMessage } from '../ports.js';
import { createLogMailer, type InfoLogger } from './log-mailer.js';
import { Outbox, type MailFailure } from './outbox.js';
import { createSmtpMailer } from './smtp.js';
import { pickLocale, renderMail } from './templates/index.js';

export { createLogMailer } from './log-mailer.js';
export { createSmtpMailer, describeSmtpUrl, type SmtpOptions } from './smtp.js';
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
    const m = createSmtpMailer(config.mail.smtpUrl, mailFrom(config), { unsafeAllowPlaintext: config.mail.unsafeAllowPlaintext });
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
    ...(mail.remaining !== undefined ? { remaining: mail.remaining } : {}),
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

/** What the outbox reports a failed delivery to (the lifecycle audits it as `mail.failed`). */
export interface OutboxReporting {
  logger?: { warn(obj: object, msg?: string): void };
  failed(mail: LifecycleMail, failure: MailFailure): Promise<void>;
}

/**
 * The outbox: renders lifecycle mail in the reader's language and delivers it through `mailer`, with
 * retries; without a mailer, messages are dropped with a warning (pass `mailer` or set GATEHOUSE_SMTP_URL).
 */
export function createOutbox(config: GatehouseConfig, mailer: Mailer | null, reporting: OutboxReporting): Outbox {
  const { logger } = reporting;
  const chosen: Mailer = mailer ?? {
    async send() {
      logger?.warn({}, 'no mailer configured: a verification, reset or email-change message was not sent (pass `mailer` or set GATEHOUSE_SMTP_URL)');
    },
  };
  return new Outbox({
    mailer: chosen,
    render: (m) => renderLifecycleMail(config, m),
    maxAttempts: config.mail.maxAttempts,
    baseDelayMs: config.mail.retryBase,
    async onFailure(mail, f) {
      logger?.warn({ mail: { kind: f.kind, attempt: f.attempt, category: f.category, final: f.final } }, f.final ? 'mail given up' : 'mail failed; will retry');
      await reporting.failed(mail, f);
    },
  });
}
