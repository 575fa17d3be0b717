// The "are you sure?" question before an action that cannot be undone from this page (the
// re-authentication dialog is step-up.js).
import { t } from './i18n.js';

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
