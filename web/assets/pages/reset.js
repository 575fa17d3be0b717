// The password-reset link: a new password for the token in `#token=…`. Success ends every session
// of the account on the server, so this page forgets any sign-in it held as well.
import { endLocal, request } from '../api.js';
import { busy, clearErrors, showProblem } from '../forms.js';
import { linkState, showOnly } from '../link-token.js';

export const template = 'page-reset';
export const title = 'reset.heading';

const link = linkState();
const BLOCKS = ['reset-form', 'reset-done', 'reset-invalid'];

export async function render(main, { updateChrome }) {
  const state = link.read();
  const form = main.querySelector('#reset-form');
  if (state.outcome) return showOnly(main, BLOCKS, state.outcome);
  if (!state.token) {
    link.settle('reset-invalid');
    return showOnly(main, BLOCKS, 'reset-invalid');
  }
  form.hidden = false;

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    const password = String(new FormData(form).get('new_password') ?? '');
    busy(form, true);
    try {
      const res = await request('POST', '/auth/password-reset/confirm', { json: { token: state.token, new_password: password }, noAuth: true });
      if (res.ok) {
        form.reset();
        link.settle('reset-done');
        endLocal(null);
        updateChrome();
        showOnly(main, BLOCKS, 'reset-done', true);
      } else if (res.code === 'invalid_link') {
        link.settle('reset-invalid');
        showOnly(main, BLOCKS, 'reset-invalid', true);
      } else {
        // A refused password does not spend the link: the form stays for another try.
        showProblem(form, res);
      }
    } finally {
      busy(form, false);
    }
  });
}
