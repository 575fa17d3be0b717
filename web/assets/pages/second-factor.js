// The second step of a password sign-in: the authenticator-app code, a passkey, or a recovery code.
import { completeMfa, mfaPasskeyOptions, pendingSignIn } from '../api.js';
import { busy, clearErrors, showProblem } from '../forms.js';
import { t } from '../i18n.js';
import { getPasskey, passkeysSupported } from '../webauthn.js';

export const template = 'page-second-factor';
export const title = 'mfa.heading';

export async function render(main, { navigate, announce }) {
  const p = pendingSignIn();
  if (!p) {
    announce('status.mfaExpired', {}, 'error');
    return navigate('/signin', { replace: true, keepStatus: true });
  }
  const totpForm = main.querySelector('#mfa-totp-form');
  const recovery = main.querySelector('#mfa-recovery');
  const recoveryForm = main.querySelector('#mfa-recovery-form');
  const passkeyBox = main.querySelector('#mfa-passkey-box');
  totpForm.hidden = !p.methods.includes('totp');
  recovery.hidden = !p.methods.includes('recovery_code');
  passkeyBox.hidden = !(p.methods.includes('webauthn') && passkeysSupported());

  const done = async (res, form) => {
    // The account page says who is signed in and how; no second message here.
    if (res.ok) return navigate('/account');
    if (res.code === 'invalid_mfa_token') {
      announce('status.mfaExpired', {}, 'error');
      return navigate('/signin', { replace: true, keepStatus: true });
    }
    showProblem(form, res);
  };

  totpForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(totpForm);
    busy(totpForm, true);
    try {
      await done(await completeMfa({ totp: String(new FormData(totpForm).get('totp') ?? '').trim() }), totpForm);
    } finally {
      busy(totpForm, false);
    }
  });
  recoveryForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(recoveryForm);
    busy(recoveryForm, true);
    try {
      await done(await completeMfa({ recovery_code: String(new FormData(recoveryForm).get('recovery_code') ?? '').trim() }), recoveryForm);
    } finally {
      busy(recoveryForm, false);
    }
  });
  main.querySelector('#mfa-passkey').addEventListener('click', async () => {
    clearErrors(passkeyBox);
    busy(passkeyBox, true);
    try {
      const options = await mfaPasskeyOptions();
      const response = options ? await getPasskey(options) : null;
      if (!response) {
        passkeyBox.querySelector('[data-error-for="_form"]').textContent = t('passkey.cancelled');
        return;
      }
      await done(await completeMfa({ webauthn: response }), passkeyBox);
    } finally {
      busy(passkeyBox, false);
    }
  });
  main.querySelector('#mfa-for').textContent = t('mfa.for', { email: p.email });
}
