/** What a lifecycle message says, whatever its language. */
export type MailKind =
  | 'verify_email'
  | 'password_reset'
  | 'email_change_confirm'
  | 'email_change_notice'
  | 'password_changed'
  | 'already_registered'
  | 'recovery_code_used'
  | 'mfa_reset';

export interface MailVars {
  /** Host name of the public URL: names the service in subjects and greetings. */
  site: string;
  /** The action link (verification, reset, email-change confirmation); absent from notices. */
  link?: string;
  /** How long the link works, in minutes. */
  ttlMinutes?: number;
  /** The requested new address, masked (`a•••@example.com`), for the notice to the old address. */
  newEmailMasked?: string;
  /** Recovery codes left (notice of a used recovery code). */
  remaining?: number;
}

/** One language: a subject, plain-text paragraphs and an optional call to action per kind. */
export interface Copy {
  subject: string;
  paragraphs: string[];
  button?: string;
  footer: string;
}

export type Catalogue = Record<MailKind, (v: MailVars) => Copy>;
