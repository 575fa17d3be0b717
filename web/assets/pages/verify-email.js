// The email-verification link: posts the token from `#token=…` once and shows the outcome.
import { auth, request } from '../api.js';
import { problemMessage } from '../forms.js';
import { linkState, showOnly } from '../link-token.js';

export const template = 'page-verify-email';
export const title = 'verify.heading';

const link = linkState();
const BLOCKS = ['verify-pending', 'verify-done', 'verify-already', 'verify-invalid', 'verify-error'];

export async function render(main) {
  const state = link.read();
  if (state.outcome) return show(main, state.outcome);
  if (!state.token) {
    link.settle({ id: 'verify-invalid' });
    return show(main, link.read().outcome);
  }
  const res = await request('POST', '/auth/verify-email', { json: { token: state.token }, noAuth: true });
  let outcome;
  if (res.ok) {
    outcome = { id: 'verify-done' };
    if (auth.user) auth.user = { ...auth.user, email_verified: true };
  } else if (res.code === 'invalid_link') {
    // A used link of a signed-in user whose address is verified has nothing left to do: say so.
    outcome = { id: auth.user?.email_verified === true ? 'verify-already' : 'verify-invalid' };
  } else {
    // Not the link's fault (a limit, an outage): keep the token for another try on reload.
    outcome = { id: 'verify-error', message: problemMessage(res) };
    show(main, outcome);
    return;
  }
  link.settle(outcome);
  show(main, outcome);
}

function show(main, outcome) {
  if (outcome.message) main.querySelector('#verify-error').textContent = outcome.message;
  showOnly(main, BLOCKS, outcome.id);
}
