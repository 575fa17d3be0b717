// The email-change link (mailed to the new address): posts the token from `#token=…` once; the
// account moves to the new address only now.
import { auth, request } from '../api.js';
import { problemMessage } from '../forms.js';
import { linkState, showOnly } from '../link-token.js';

export const template = 'page-confirm-email';
export const title = 'confirmEmail.heading';

const link = linkState();
const BLOCKS = ['confirm-pending', 'confirm-done', 'confirm-invalid', 'confirm-taken', 'confirm-error'];

export async function render(main) {
  const state = link.read();
  if (state.outcome) return show(main, state.outcome);
  if (!state.token) {
    link.settle({ id: 'confirm-invalid' });
    return show(main, link.read().outcome);
  }
  const res = await request('POST', '/auth/email/confirm', { json: { token: state.token }, noAuth: true });
  let outcome;
  if (res.ok) {
    outcome = { id: 'confirm-done' };
    // A sign-in held by this page shows the new address from now on.
    if (auth.mode) {
      const me = await request('GET', '/auth/me');
      if (me.ok && me.body?.user) auth.user = me.body.user;
    }
  } else if (res.code === 'invalid_link') {
    outcome = { id: 'confirm-invalid' };
  } else if (res.code === 'email_taken') {
    outcome = { id: 'confirm-taken' };
  } else {
    outcome = { id: 'confirm-error', message: problemMessage(res) };
    show(main, outcome);
    return;
  }
  link.settle(outcome);
  show(main, outcome);
}

function show(main, outcome) {
  if (outcome.message) main.querySelector('#confirm-error').textContent = outcome.message;
  showOnly(main, BLOCKS, outcome.id);
}
