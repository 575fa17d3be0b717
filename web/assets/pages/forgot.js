// "Forgot password?": asks for a reset link. The answer is the same whether or not the address has
// an account, so the page says the same thing either way.
import { request } from '../api.js';
import { busy, clearErrors, showProblem } from '../forms.js';

export const template = 'page-forgot';

let prefill = '';
/** The address typed on the sign-in page, offered here when the user follows "Forgot password?". */
export function prefillEmail(email) {
  prefill = email;
}
export const title = 'forgot.heading';

export async function render(main) {
  const form = main.querySelector('#forgot-form');
  const sent = main.querySelector('#forgot-sent');
  if (prefill) form.querySelector('[name="email"]').value = prefill;
  prefill = '';
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    sent.hidden = true;
    const email = String(new FormData(form).get('email') ?? '').trim();
    busy(form, true);
    try {
      const res = await request('POST', '/auth/password-reset', { json: { email }, noAuth: true });
      if (!res.ok) return showProblem(form, res);
      sent.hidden = false;
      // The notice is the answer, right under the form: focus takes screen readers (and the view) there.
      sent.focus();
    } finally {
      busy(form, false);
    }
  });
}
