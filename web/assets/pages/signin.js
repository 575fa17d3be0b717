import { login, passkeyLogin } from '../api.js';
import { busy, clearErrors, problemMessage, showProblem } from '../forms.js';
import { t } from '../i18n.js';
import { renderProviderButtons } from '../providers.js';
import { getPasskey, passkeysSupported } from '../webauthn.js';
import { prefillEmail } from './forgot.js';

export const template = 'page-signin';
export const title = 'signin.heading';

export async function render(main, { navigate }) {
  void renderProviderButtons(main.querySelector('[data-oidc]'));
  const form = main.querySelector('#signin-form');
  const emailInput = form.querySelector('[name="email"]');
  for (const a of main.querySelectorAll('a[href="/forgot"]')) a.addEventListener('click', () => prefillEmail(emailInput.value.trim()));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    const data = new FormData(form);
    busy(form, true);
    try {
      const mode = data.get('mode') === 'token' ? 'token' : 'session';
      const res = await login(String(data.get('email')), String(data.get('password')), mode);
      if (res.code === 'mfa_required') return navigate('/signin/verify');
      if (!res.ok) {
        showProblem(form, res);
        if (res.code === 'email_unverified') unverified(form);
        return;
      }
      // The account page says who is signed in and how; no second message here.
      await navigate('/account');
    } finally {
      busy(form, false);
    }
  });

  // Passwordless: any passkey of this site, no email asked; the mode chosen above applies.
  const passkeyBox = main.querySelector('#signin-passkey');
  passkeyBox.hidden = !passkeysSupported();
  passkeyBox.querySelector('button').addEventListener('click', async () => {
    clearErrors(passkeyBox);
    busy(passkeyBox, true);
    try {
      const mode = new FormData(form).get('mode') === 'token' ? 'token' : 'session';
      const res = await passkeyLogin(mode, getPasskey);
      if (!res.ok) {
        // Its own slot: the password form keeps the page's one form-level error.
        passkeyBox.querySelector('[data-error-for="passkey"]').textContent = res.code === 'cancelled' ? t('passkey.cancelled') : problemMessage(res);
        return;
      }
      // The account page says who is signed in and how; no second message here.
      await navigate('/account');
    } finally {
      busy(passkeyBox, false);
    }
  });
}

/** An unverified address: a reset link also proves the mailbox, so the way on is "Forgot password?". */
function unverified(form) {
  const slot = form.querySelector('[data-error-for="_form"]');
  const a = document.createElement('a');
  a.href = '/forgot';
  a.dataset.link = '';
  a.textContent = t('signin.unverifiedReset');
  a.addEventListener('click', () => prefillEmail(String(new FormData(form).get('email') ?? '').trim()));
  slot.textContent = t('signin.unverified');
  slot.append(' ', a);
}
