import { auth, login } from '../api.js';
import { busy, clearErrors, showProblem } from '../forms.js';

export const template = 'page-signin';
export const title = 'signin.heading';

export async function render(main, { navigate, announce }) {
  const form = main.querySelector('#signin-form');
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    const data = new FormData(form);
    busy(form, true);
    try {
      const mode = data.get('mode') === 'token' ? 'token' : 'session';
      const res = await login(String(data.get('email')), String(data.get('password')), mode);
      if (!res.ok) return showProblem(form, res);
      announce(mode === 'token' ? 'status.signedInToken' : 'status.signedInSession', { email: auth.user?.email ?? '' }, 'success');
      await navigate('/account', { keepStatus: true });
    } finally {
      busy(form, false);
    }
  });
}
