// The re-authentication dialog: the password for an account without a second factor; the
// authenticator-app code or a passkey once the account has one (the API then asks for aal2).
import { request } from './api.js';
import { problemMessage } from './forms.js';
import { t } from './i18n.js';
import { getPasskey, passkeysSupported } from './webauthn.js';

/**
 * Resolves true once POST /auth/reauth succeeded through `submit(body)`, false when cancelled.
 * `need.acr` is the level the refused action asked for.
 */
export async function promptStepUp(submit, need, announce) {
  const dlg = document.getElementById('reauth-dialog');
  const form = document.getElementById('reauth-form');
  const pwField = document.getElementById('reauth-password-field');
  const pw = document.getElementById('reauth-password');
  const totpField = document.getElementById('reauth-totp-field');
  const totp = document.getElementById('reauth-totp');
  const passkeyBtn = document.getElementById('reauth-passkey');
  const text = document.getElementById('reauth-text');
  const confirmBtn = document.getElementById('reauth-confirm');
  const cancel = document.getElementById('reauth-cancel');
  const errors = [...dlg.querySelectorAll('[data-error-for]')];

  const second = need?.acr === 'aal2';
  let factors = { totp: false, passkeys: 0 };
  if (second) {
    const s = await request('GET', '/auth/mfa');
    if (s.ok) factors = s.body;
  }
  const useTotp = second && factors.totp;
  const usePasskey = second && factors.passkeys > 0 && passkeysSupported();
  pwField.hidden = second;
  totpField.hidden = !useTotp;
  confirmBtn.hidden = second && !useTotp;
  passkeyBtn.hidden = !usePasskey;
  text.textContent = t(second ? 'reauth.textSecond' : 'reauth.text');
  document.getElementById('reauth-h').textContent = t(second ? 'reauth.headingSecond' : 'reauth.heading');
  pw.value = '';
  totp.value = '';
  for (const el of errors) el.textContent = '';
  for (const el of [pw, totp]) el.removeAttribute('aria-invalid');

  return new Promise((resolve) => {
    const done = (v) => {
      form.removeEventListener('submit', onSubmit);
      cancel.removeEventListener('click', onCancel);
      passkeyBtn.removeEventListener('click', onPasskey);
      dlg.removeEventListener('cancel', onCancel);
      if (dlg.open) dlg.close();
      resolve(v);
    };
    const fail = (r, input, slot) => {
      const el = dlg.querySelector(`[data-error-for="${slot}"]`);
      el.textContent = r.code === 'invalid_credentials' ? t('reauth.wrong') : problemMessage(r);
      if (input) {
        input.setAttribute('aria-invalid', 'true');
        input.focus();
      }
    };
    const finish = (r, input, slot) => {
      if (r.ok) {
        announce(second ? 'status.stepUpOk' : 'status.reauthOk', {}, 'success');
        return done(true);
      }
      fail(r, input, slot);
    };
    const onCancel = (e) => {
      e.preventDefault();
      done(false);
    };
    const onSubmit = async (e) => {
      e.preventDefault();
      if (useTotp) finish(await submit({ totp: totp.value.trim() }), totp, 'totp');
      else if (!second) finish(await submit({ password: pw.value }), pw, 'password');
    };
    const onPasskey = async () => {
      const opts = await request('POST', '/auth/reauth/options', { json: {} });
      if (!opts.ok) return fail(opts, null, 'passkey');
      const response = await getPasskey(opts.body);
      if (!response) return fail({ code: 'cancelled', status: 0, body: { title: t('passkey.cancelled') } }, null, 'passkey');
      finish(await submit({ webauthn: response }), null, 'passkey');
    };
    form.addEventListener('submit', onSubmit);
    cancel.addEventListener('click', onCancel);
    passkeyBtn.addEventListener('click', onPasskey);
    dlg.addEventListener('cancel', onCancel);
    dlg.showModal();
    (useTotp ? totp : second ? passkeyBtn : pw).focus();
  });
}
