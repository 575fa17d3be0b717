// The email-verification link: posts the token from `#token=…` once and shows the outcome. The API
// verifies only for the account's holder: signed in to it, or giving its password with the link
// (401 otherwise, and the link stays usable), so a signed-out visitor is asked for the password here.
import { auth, request } from '../api.js';
import { busy, clearErrors, problemMessage, showProblem } from '../forms.js';
import { linkState, showOnly } from '../link-token.js';

export const template = 'page-verify-email';
export const title = 'verify.heading';

const link = linkState();
const BLOCKS = ['verify-pending', 'verify-form', 'verify-done', 'verify-already', 'verify-invalid', 'verify-error'];

export async function render(main) {
  const state = link.read();
  if (state.outcome) return show(main, state.outcome);
  if (!state.token) {
    link.settle({ id: 'verify-invalid' });
    return show(main, link.read().outcome);
  }
  const res = await request('POST', '/auth/verify-email', { json: { token: state.token }, noAuth: true });
  if (res.status === 401 && res.code === 'unauthenticated') return askPassword(main, state.token);
  settle(main, res);
}

/** The link belongs to an account this page is not signed in to: its password proves it is the holder's. */
function askPassword(main, token) {
  const form = main.querySelector('#verify-form');
  showOnly(main, BLOCKS, 'verify-form');
  form.querySelector('input[name="password"]').focus();
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    busy(form, true);
    try {
      const password = String(new FormData(form).get('password') ?? '');
      const res = await request('POST', '/auth/verify-email', { json: { token, password }, noAuth: true });
      if (res.code === 'invalid_credentials' || res.status === 429) return showProblem(form, res, { invalid_credentials: 'reauth.wrong' });
      settle(main, res, true);
    } finally {
      busy(form, false);
    }
  });
}

function settle(main, res, focus = false) {
  let outcome;
  if (res.ok) {
    outcome = { id: 'verify-done' };
    if (auth.user) auth.user = { ...auth.user, email_verified: true };
  } else if (res.code === 'invalid_link') {
    // A used or void link of a signed-in user whose address is verified has nothing left to do: say so.
    outcome = { id: auth.user?.email_verified === true ? 'verify-already' : 'verify-invalid' };
  } else {
    // Not the link's fault (a limit, an outage): keep the token for another try on reload.
    outcome = { id: 'verify-error', message: problemMessage(res) };
    show(main, outcome, focus);
    return;
  }
  link.settle(outcome);
  show(main, outcome, focus);
}

function show(main, outcome, focus = false) {
  if (outcome.message) main.querySelector('#verify-error').textContent = outcome.message;
  showOnly(main, BLOCKS, outcome.id, focus);
}
