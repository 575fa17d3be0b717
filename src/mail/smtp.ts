/**
 * Delivery over SMTP (nodemailer), from one URL: `smtp://user:pass@host:587` (STARTTLS required) or
 * `smtps://…:465` (implicit TLS).
 *
 * `smtp://` requires STARTTLS: a server that does not offer it (or a man in the middle stripping it
 * from the EHLO answer) gets neither the credentials nor a message; the send fails with a `tls`
 * failure. Only `unsafeAllowPlaintext` (GATEHOUSE_UNSAFE_SMTP_PLAINTEXT) lets it fall back to clear
 * text, for a relay on the same host or a private link.
 *
 * The transport is built from the URL's parts rather than handed the URL: nodemailer's
 * `createTransport({ url, … })` keeps only what the URL says and drops every other option (the TLS
 * requirement and the timeouts below included), and would read TLS settings from a query string
 * (`?ignoreTLS=true`). So TLS is decided here alone, and a query string is refused.
 */
import nodemailer from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
import type { Mailer, MailMessage } from '../ports.js';

export interface SmtpMailer extends Mailer {
  /** `host:port` without credentials, for start-up logs. */
  readonly describe: string;
  close(): void;
}

/** The server named by an SMTP URL, credentials left out (safe to log). */
export function describeSmtpUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.hostname}${u.port ? `:${u.port}` : ''}`;
  } catch {
    return 'smtp (unparsable URL)';
  }
}

export interface SmtpOptions {
  /**
   * `smtp://` only: deliver in clear when the server does not offer STARTTLS (credentials and links
   * then cross the network readable). Default false: no STARTTLS, no AUTH and no message.
   */
  unsafeAllowPlaintext?: boolean;
}

export function createSmtpMailer(url: string, from: string, opts: SmtpOptions = {}): SmtpMailer {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError('GATEHOUSE_SMTP_URL is not a URL (use e.g. smtp://user:pass@host:587)');
  }
  if (parsed.protocol !== 'smtp:' && parsed.protocol !== 'smtps:') throw new TypeError('GATEHOUSE_SMTP_URL must start with smtp:// or smtps://');
  if (parsed.search || parsed.hash) {
    throw new TypeError('GATEHOUSE_SMTP_URL takes no query options: TLS follows the scheme (smtps:// implicit TLS, smtp:// required STARTTLS; GATEHOUSE_UNSAFE_SMTP_PLAINTEXT=true allows clear text)');
  }
  if (!parsed.hostname) throw new TypeError('GATEHOUSE_SMTP_URL names no host (use e.g. smtp://user:pass@host:587)');
  const secure = parsed.protocol === 'smtps:';
  const user = decodeURIComponent(parsed.username);
  const options: SMTPTransport.Options = {
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: parsed.port ? Number(parsed.port) : secure ? 465 : 587,
    secure,
    ...(user ? { auth: { user, pass: decodeURIComponent(parsed.password) } } : {}),
    // smtps:// is TLS from the first byte; smtp:// must upgrade with STARTTLS before AUTH or MAIL.
    ...(!secure && !opts.unsafeAllowPlaintext ? { requireTLS: true } : {}),
    // Bounded so that a hung server costs an attempt, not a stuck queue.
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
  };
  const transport = nodemailer.createTransport(options, { from });
  return {
    describe: describeSmtpUrl(url),
    async send(msg: MailMessage) {
      await transport.sendMail({ to: msg.to, subject: msg.subject, text: msg.text, html: msg.html });
    },
    close() {
      transport.close();
    },
  };
}
