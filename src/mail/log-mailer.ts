/**
 * The development mailer: writes each message, link included, to the log instead of sending it.
 * Only ever the default on a localhost public URL (see mail/index.ts), where the log is the
 * developer's own terminal.
 */
import type { Mailer, MailMessage } from '../ports.js';

export interface InfoLogger {
  info(obj: object, msg?: string): void;
}

export function createLogMailer(logger: InfoLogger): Mailer {
  return {
    async send(msg: MailMessage) {
      logger.info({ mail: { to: msg.to, subject: msg.subject, body: msg.text } }, 'development mailer: message not sent, shown here');
    },
  };
}
