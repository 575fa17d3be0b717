// "XSS exposure": what a script injected into this page could read, and what it could do, in the
// mode in use — run for real, from this page, with what this page holds.
import { auth, refresh } from '../api.js';
import { formatTime, t } from '../i18n.js';
import { el, mono, verdict } from './dom.js';

const item = (label, answer, note) => el('li', {}, el('strong', {}, label), ' ', answer, note ? el('p', { className: 'hint' }, note) : null);

export async function runXss(result) {
  const cookies = document.cookie || t('xss.emptyCookie');
  const out = [item(t('xss.documentCookie'), mono(cookies), t('xss.documentCookieNote'))];
  if (!auth.mode) {
    out.push(item(t('xss.nothing'), verdict(t('xss.nothingValue'), true)));
    result.replaceChildren(el('ul', { className: 'xss-results' }, out));
    return;
  }
  // Using the sign-in from inside the page works in both modes: the browser, or the page, adds the credential.
  const started = performance.now();
  const res = await fetch('/auth/me', { credentials: 'same-origin', cache: 'no-store', headers: auth.accessToken ? { authorization: `Bearer ${auth.accessToken}` } : {} });
  const ms = Math.round(performance.now() - started);
  out.push(item(t('xss.use'), verdict(t('xss.useValue', { status: res.status, ms }), res.status !== 200), t(auth.mode === 'token' ? 'xss.useNoteToken' : 'xss.useNoteSession')));
  if (auth.mode === 'session') {
    out.push(item(t('xss.takeCookie'), verdict(t('xss.takeCookieValue'), true), t('xss.takeCookieNote')));
  } else {
    const token = auth.accessToken ?? '';
    const exp = auth.jwt?.claims?.exp;
    out.push(item(t('xss.takeToken'), verdict(t('xss.takeTokenValue', { start: token.slice(0, 16) }), false), t('xss.takeTokenNote', { until: formatTime(typeof exp === 'number' ? exp * 1000 : null) })));
    const before = auth.jwt?.claims?.jti;
    const ok = await refresh('xss');
    out.push(item(t('xss.mint'), verdict(t(ok ? 'xss.mintValue' : 'xss.mintRefused', { old: String(before).slice(0, 8), jti: String(auth.jwt?.claims?.jti).slice(0, 8) }), !ok), t('xss.mintNote')));
    out.push(item(t('xss.takeRefresh'), verdict(t('xss.takeCookieValue'), true), t('xss.takeRefreshNote')));
  }
  result.replaceChildren(el('ul', { className: 'xss-results' }, out));
}
