import { renderProviderButtons } from '../providers.js';
import { register } from '../api.js';
import { busy, clearErrors, showProblem } from '../forms.js';

export const template = 'page-signup';
export const title = 'signup.heading';

export async function render(main, { navigate, announce }) {
  void renderProviderButtons(main.querySelector('[data-oidc]'), { signUp: true });
  const form = main.querySelector('#signup-form');
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    const data = new FormData(form);
    busy(form, true);
    try {
      const res = await register(String(data.get('email')), String(data.get('password')));
      if (!res.ok) return showProblem(form, res);
      // The answer is the same for a new and a taken address (nobody learns which addresses have an
      // account), so the message fits both.
      announce('status.registered', {}, 'success');
      await navigate('/signin', { keepStatus: true });
      const email = document.getElementById('signin-email');
      if (email) email.value = String(data.get('email'));
    } finally {
      busy(form, false);
    }
  });
}
