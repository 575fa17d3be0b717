// The single-page shell: routes, the header, status messages, and the start-up sign-in check.
import { auth, logout, restore, setHooks } from './api.js';
import { enhancePasswords, relabelPasswords } from './forms.js';
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
import * as admin from './pages/admin.js';
import * as adminUser from './pages/admin-user.js';
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
  '/admin': admin,
  '/admin/user': adminUser,
};
let cleanup = null;
let currentPage = null;

/** A message in the page-level live region under the header (used around navigation). */
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
  delete el.dataset.kind;
}

/**
 * A message next to what was done: written to `el` (a `role="status"` region of the section), and
 * scrolled into view if it is not, so the result of an action is always on screen after it.
 */
export function say(el, key, vars = {}, kind = 'info') {
  if (!el) return;
  el.dataset.kind = kind;
  el.dataset.key = key;
  el.textContent = t(key, vars);
  const r = el.getBoundingClientRect();
  if (r.top < 0 || r.bottom > window.innerHeight) el.scrollIntoView({ block: 'nearest' });
}

export async function navigate(path, { replace = false, keepStatus = false } = {}) {
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  await render({ focus: true, keepStatus });
}

async function render({ focus = false, keepStatus = false, scroll = true } = {}) {
  if (cleanup) {
    cleanup();
    cleanup = null;
  }
  if (!keepStatus) clearStatus();
  const path = location.pathname;
  const page = routes[path];
  currentPage = page ?? null;
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
  enhancePasswords(main);
  updateChrome();
  if (scroll) window.scrollTo(0, 0);
  if (page) cleanup = (await page.render(main, { navigate, announce, say, updateChrome })) ?? null;
  if (location.pathname !== path) return; // the page moved on (e.g. the session ended meanwhile)
  main.dataset.page = page ? path : 'notfound';
  document.title = `${t(page?.title ?? 'notfound.heading')} · ${t('app.name')}`;
  if (focus) {
    // The new page's heading takes the focus, so screen readers start there; it is not a control,
    // so it shows no focus ring (see style.css).
    const h1 = main.querySelector('h1');
    if (h1) {
      h1.tabIndex = -1;
      h1.focus({ preventScroll: true });
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

const END_MESSAGES = { revoked: 'status.sessionRevoked', expired: 'status.sessionExpired' };

async function start() {
  await loadLanguage(document.documentElement.lang);
  applyMessages(document);
  enhancePasswords(document.getElementById('reauth-dialog'));
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
    relabelPasswords(document);
    await render({ keepStatus: false, scroll: false });
    announce('status.languageChanged');
  });

  document.addEventListener('click', (e) => {
    const a = e.target instanceof Element ? e.target.closest('a[data-link]') : null;
    if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    void navigate(a.getAttribute('href'));
  });
  window.addEventListener('popstate', () => void render({ focus: true }));

  document.getElementById('nav-signout').addEventListener('click', async () => {
    const res = await logout();
    if (!auth.mode) {
      announce('status.signedOut', {}, 'success');
      await navigate('/signin', { keepStatus: true });
    } else announce('status.error', { message: res.body?.title ?? String(res.status) }, 'error');
  });

  setHooks({
    signedOut: (reason, e) => {
      // A page that shows the end itself (the explorer) keeps the user where they are.
      updateChrome();
      if (currentPage?.keepsEnd?.(e)) return;
      announce(END_MESSAGES[reason] ?? 'status.sessionEnded', {}, 'error');
      void navigate('/signin', { replace: true, keepStatus: true });
    },
    reauth: (submit, need) => promptStepUp(submit, need, announce),
  });

  await restore();
  document.body.dataset.ready = 'true';
  await render();
}

void start();
