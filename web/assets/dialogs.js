// The two modal questions: "confirm your password" (the API asked for a recent sign-in) and
// "are you sure?" before an action that cannot be undone from this page.
import { auth } from './api.js';
import { busy, problemMessage } from './forms.js';
import { t } from './i18n.js';

/** Resolves true once `submit(password)` succeeded (POST /auth/reauth), false when cancelled. */
export function promptReauth(submit) {
  const dlg = document.getElementById('reauth-dialog');
  const form = document.getElementById('reauth-form');
  const input = document.getElementById('reauth-password');
  const err = dlg.querySelector('[data-error-for="password"]');
  const cancel = document.getElementById('reauth-cancel');
  const username = form.querySelector('input[name="username"]');
  if (username) username.value = auth.user?.email ?? '';
  input.value = '';
  err.textContent = '';
  input.removeAttribute('aria-invalid');
  const opener = document.activeElement;
  return new Promise((resolve) => {
    const done = (v) => {
      form.removeEventListener('submit', onSubmit);
      cancel.removeEventListener('click', onCancel);
      dlg.removeEventListener('cancel', onCancel);
      if (dlg.open) dlg.close();
      if (opener instanceof HTMLElement && opener.isConnected) opener.focus();
      resolve(v);
    };
    const onCancel = (e) => {
      e.preventDefault();
      done(false);
    };
    const onSubmit = async (e) => {
      e.preventDefault();
      busy(form, true);
      try {
        const r = await submit(input.value);
        if (r.ok) return done(true);
        err.textContent = r.code === 'invalid_credentials' ? t('reauth.wrong') : problemMessage(r);
        input.setAttribute('aria-invalid', 'true');
        input.focus();
      } finally {
        busy(form, false);
      }
    };
    form.addEventListener('submit', onSubmit);
    cancel.addEventListener('click', onCancel);
    dlg.addEventListener('cancel', onCancel);
    dlg.showModal();
    input.focus();
  });
}

/** Asks before a risky action; resolves true when confirmed. Cancel is the default (Escape, the Cancel button). */
export function confirmAction({ heading, text, confirm, vars = {} }) {
  const dlg = document.getElementById('confirm-dialog');
  const form = document.getElementById('confirm-form');
  const cancel = document.getElementById('confirm-cancel');
  document.getElementById('confirm-h').textContent = t(heading, vars);
  document.getElementById('confirm-text').textContent = t(text, vars);
  document.getElementById('confirm-ok').textContent = t(confirm, vars);
  const opener = document.activeElement;
  return new Promise((resolve) => {
    const done = (v) => {
      form.removeEventListener('submit', onSubmit);
      cancel.removeEventListener('click', onCancel);
      dlg.removeEventListener('cancel', onCancel);
      if (dlg.open) dlg.close();
      if (opener instanceof HTMLElement && opener.isConnected) opener.focus();
      resolve(v);
    };
    const onCancel = (e) => {
      e.preventDefault();
      done(false);
    };
    const onSubmit = (e) => {
      e.preventDefault();
      done(true);
    };
    form.addEventListener('submit', onSubmit);
    cancel.addEventListener('click', onCancel);
    dlg.addEventListener('cancel', onCancel);
    dlg.showModal();
    // The safe choice has the focus: Enter alone does not sign everyone out.
    cancel.focus();
  });
}
