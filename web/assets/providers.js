// "Continue with …": one link per configured identity provider. A plain navigation to the start
// route (the browser must go to the provider and back), in session mode, landing on the account page.
import { request } from './api.js';
import { t } from './i18n.js';

let cached = null;

/** The configured providers (fetched once per page load). */
export async function providers() {
  if (!cached) {
    const res = await request('GET', '/auth/oidc/providers', { noAuth: true }).catch(() => null);
    cached = res && res.ok ? res.body.providers : [];
  }
  return cached;
}

/** Fills `box` (a `[data-oidc]` element) with the buttons, or keeps it hidden when there is none. */
export async function renderProviderButtons(box, { signUp = false } = {}) {
  if (!box) return;
  const list = (await providers()).filter((p) => !signUp || p.sign_up);
  const ul = box.querySelector('.oidc-buttons');
  ul.replaceChildren();
  for (const p of list) {
    const li = document.createElement('li');
    const a = document.createElement('a');
    a.className = 'button secondary';
    a.href = `${p.start_url}?mode=session&return_to=${encodeURIComponent('/account')}`;
    a.textContent = t('signin.continueWith', { provider: p.name });
    a.dataset.provider = p.id;
    li.append(a);
    ul.append(li);
  }
  box.hidden = list.length === 0;
}
