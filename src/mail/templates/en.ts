import type { Catalogue } from './types.js';

const duration = (m = 0) => (m >= 120 && m % 60 === 0 ? `${m / 60} hours` : m === 60 ? '1 hour' : `${m} minutes`);
const footer = (site: string) => `This message was sent by ${site}. If you did not expect it, you can ignore it.`;

export const en: Catalogue = {
  verify_email: (v) => ({
    subject: `Verify your email address for ${v.site}`,
    paragraphs: [`Confirm that this address belongs to your ${v.site} account by opening the link below.`, `The link works once and expires in ${duration(v.ttlMinutes)}.`],
    button: 'Verify email address',
    footer: footer(v.site),
  }),
  password_reset: (v) => ({
    subject: `Reset your ${v.site} password`,
    paragraphs: [
      `Someone asked to reset the password of your ${v.site} account. Open the link below to choose a new password.`,
      `The link works once and expires in ${duration(v.ttlMinutes)}. Resetting signs you out on every device.`,
      'If you did not ask for this, ignore this message: your password stays as it is.',
    ],
    button: 'Choose a new password',
    footer: footer(v.site),
  }),
  email_change_confirm: (v) => ({
    subject: `Confirm your new email address for ${v.site}`,
    paragraphs: [`Open the link below to make this the email address of your ${v.site} account.`, `Nothing changes until you do. The link works once and expires in ${duration(v.ttlMinutes)}.`],
    button: 'Confirm new address',
    footer: footer(v.site),
  }),
  email_change_notice: (v) => ({
    subject: `Your ${v.site} email address is about to change`,
    paragraphs: [
      `A change of your account's email address to ${v.newEmailMasked ?? 'a new address'} was requested. It takes effect only when the new address is confirmed.`,
      'If this was not you, change your password now and sign out of your other devices.',
    ],
    footer: footer(v.site),
  }),
  already_registered: (v) => ({
    subject: `Someone tried to create a ${v.site} account with your address`,
    paragraphs: [
      `Your address was just used to sign up for ${v.site}, but it already belongs to an account, so no new account was made.`,
      'If that was you, sign in instead. If you do not know the password of that account (or did not create it), choose a new password with the link below: that makes the account yours and signs out every device on it.',
      `The link works once and expires in ${duration(v.ttlMinutes)}. If you did nothing, ignore this message.`,
    ],
    button: 'Choose a new password',
    footer: footer(v.site),
  }),
  password_changed: (v) => ({
    subject: `Your ${v.site} password was reset`,
    paragraphs: ['The password of your account was just reset, and every device was signed out.', 'If this was not you, reset your password again at once and review your account.'],
    footer: footer(v.site),
  }),
  recovery_code_used: (v) => ({
    subject: `A recovery code was used to sign in to ${v.site}`,
    paragraphs: [
      `One of your recovery codes was just used in place of your authenticator app. ${v.remaining ?? 0} unused codes are left.`,
      'If this was not you, change your password, generate new recovery codes and review your devices at once.',
    ],
    footer: footer(v.site),
  }),
  mfa_reset: (v) => ({
    subject: `Two-step sign-in was turned off on your ${v.site} account`,
    paragraphs: [
      'An administrator removed the second factors of your account (authenticator app, recovery codes and passkeys), and every device was signed out.',
      'Sign in with your password and set up two-step sign-in again. If you did not ask for this, contact your administrator.',
    ],
    footer: footer(v.site),
  }),
};
