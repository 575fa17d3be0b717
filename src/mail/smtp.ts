/** Delivery over SMTP (nodemailer), from one URL: `smtp://user:pass@host:587` or `smtps://…:465`. */
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

export function createSmtpMailer(url: string, from: string): SmtpMailer {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError('GATEHOUSE_SMTP_URL is not a URL (use e.g. smtp://user:pass@host:587)');
  }
  if (parsed.protocol !== 'smtp:' && parsed.protocol !== 'smtps:') throw new TypeError('GATEHOUSE_SMTP_URL must start with smtp:// or smtps://');
  const options: SMTPTransport.Options = {
    url,
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
