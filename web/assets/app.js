// The single-page shell: routing between the pages, the language switch, the status live region,
// and the re-authentication dialog (step-up.js). Tokens stay in this page's memory, so moving between pages
// never reloads the document.
import { auth, restore, setHooks } from './api.js';
import { applyMessages, lang, loadLanguage, rememberLanguage, t } from './i18n.js';
import * as home from './pages/home.js';
import * as signin from './pages/signin.js';
import * as signup from './pages/signup.js';
import * as account from './pages/account.js';
import * as explorer from './pages/explorer.js';
import * as forgot from './pages/forgot.js';
import * as reset from './pages/reset.js';
import * as verifyEmail from './pages/verify-email.js';
import * as confirmEmail from './pages/confirm-email.js';
import * as secondFactor from './pages/second-factor.js';
import * as security from './pages/security.js';
import { promptStepUp } from './step-up.js';

const routes = {
  '/': home,
  '/signin': signin,
  '/signup': signup,
  '/account': account,
  '/explorer': explorer,
  '/forgot': forgot,
  '/reset': reset,
  '/verify-email': verifyEmail,
  '/confirm-email': confirmEmail,
  '/signin/verify': secondFactor,
  '/security': security,
};
let cleanup = null;

/** Status messages go to one polite live region. */
export function announce(key, vars = {}, kind = 'info') {
  const el = document.getElementById('status');
  el.dataset.kind = kind;
  el.dataset.key = key;
  el.textContent = t(key, vars);
}
function clearStatus() {
  const el = document.getElementById('status');
  el.textContent = '';
  delete el.dataset.key;
}

export async function navigate(path, { replace = false, keepStatus = false } = {}) {
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  await render({ focus: true, keepStatus });
}

async function render({ focus = false, keepStatus = false } = {}) {
  if (cleanup) {
    cleanup();
    cleanup = null;
  }
  if (!keepStatus) clearStatus();
  const path = location.pathname;
  const page = routes[path];
  const main = document.getElementById('main');
  main.replaceChildren();
  delete main.dataset.page;
  if (page?.requiresAuth && !auth.mode) {
    announce('status.signinRequired', {}, 'error');
    return navigate('/signin', { replace: true, keepStatus: true });
  }
  const tpl = document.getElementById(page ? page.template : 'page-notfound');
  main.append(tpl.content.cloneNode(true));
  applyMessages(main);
  updateChrome();
  if (page) cleanup = (await page.render(main, { navigate, announce, updateChrome })) ?? null;
  if (location.pathname !== path) return; // the page moved on (e.g. the session ended meanwhile)
  main.dataset.page = path;
  document.title = `${t(page?.title ?? 'notfound.heading')} · ${t('app.name')}`;
  if (focus) {
    const h1 = main.querySelector('h1');
    if (h1) {
      h1.tabIndex = -1;
      h1.focus();
    }
  }
}

/** Shows the links that fit the signed-in state. */
function updateChrome() {
  const signedIn = Boolean(auth.mode);
  for (const el of document.querySelectorAll('[data-when]')) el.hidden = (el.dataset.when === 'in') !== signedIn;
  for (const a of document.querySelectorAll('a[data-link]')) {
    if (a.getAttribute('href') === location.pathname) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

async function start() {
  const initial = document.documentElement.lang;
  await loadLanguage(initial);
  applyMessages(document);
  const select = document.getElementById('lang-select');
  select.value = lang();
  select.addEventListener('change', async () => {
    rememberLanguage(select.value);
    await loadLanguage(select.value);
    const url = new URL(location.href);
    if (url.searchParams.has('lang')) {
      url.searchParams.delete('lang');
      history.replaceState(null, '', url.pathname + url.search);
    }
    applyMessages(document);
    await render({ keepStatus: false });
    announce('status.languageChanged');
  });

  document.addEventListener('click', (e) => {
    const a = e.target instanceof Element ? e.target.closest('a[data-link]') : null;
    if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    void navigate(a.getAttribute('href'));
  });
  window.addEventListener('popstate', () => void render({ focus: true }));

  setHooks({
    signedOut: (reason) => {
      announce(reason === 'ended' ? 'status.sessionEnded' : 'status.signedOut', {}, reason === 'ended' ? 'error' : 'info');
      void navigate('/signin', { replace: true, keepStatus: true });
    },
    reauth: (submit, need) => promptStepUp(submit, need, announce),
  });

  await restore();
  document.body.dataset.ready = 'true';
  await render();
}

void start();
