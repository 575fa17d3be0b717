// "Sending" and "Cross-domain", shown rather than told: a page of this server under its other loopback
// name (another site to the browser) sends the requests any site can send here, and this page reads
// back from the server what arrived with them (GET /explorer/lab/probe/<run>).
import { lang, t } from '../i18n.js';
import { el, verdict } from './dom.js';

/** This server under its other loopback name, or null when it is not reached by one (no second site to use). */
export function otherOrigin() {
  const other = { localhost: '127.0.0.1', '127.0.0.1': 'localhost' }[location.hostname];
  return other ? `${location.protocol}//${other}${location.port ? `:${location.port}` : ''}` : null;
}

function nonce() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
}

const KINDS = ['fetch', 'form-post', 'navigation', 'cors-read'];

/** Opens the other site, waits (bounded) for its requests to arrive, and shows what came with them. */
export async function runLab({ button, result, cross, mode }) {
  const other = otherOrigin();
  if (!other) return;
  const n = nonce();
  button.disabled = true;
  result.replaceChildren(el('p', {}, t('lab.running', { origin: other })));
  window.open(`${other}/explorer/lab/other-site?target=${encodeURIComponent(location.origin)}&n=${n}&lang=${lang()}`, '_blank', 'noopener');
  let records = [];
  const until = Date.now() + 30_000;
  try {
    while (Date.now() < until) {
      await new Promise((r) => setTimeout(r, 400));
      const res = await fetch(`/explorer/lab/probe/${n}`, { cache: 'no-store', credentials: 'same-origin' });
      if (res.ok) records = (await res.json()).records;
      if (KINDS.every((k) => records.some((r) => r.kind === k))) break;
    }
  } finally {
    button.disabled = false;
  }
  show(result, cross, records, other, mode);
  result.scrollIntoView({ block: 'nearest' });
}

function show(result, cross, records, other, mode) {
  const yesNo = (sent, goodWhenSent = false) => verdict(t(sent ? 'lab.sent' : 'lab.notSent'), sent === goodWhenSent);
  const items = KINDS.filter((k) => k !== 'cors-read').map((kind) => {
    const r = records.find((x) => x.kind === kind);
    if (!r) return el('li', {}, el('strong', {}, t(`lab.kind.${kind}`)), ' ', t('lab.missing'));
    return el(
      'li',
      { 'data-kind': kind },
      el('strong', {}, t(`lab.kind.${kind}`)),
      el(
        'dl',
        { className: 'facts' },
        el('div', {}, el('dt', {}, t('lab.sessionCookie')), el('dd', {}, mode === 'session' || r.session_cookie ? yesNo(r.session_cookie) : t('lab.noneHeld'))),
        el('div', {}, el('dt', {}, t('lab.authorization')), el('dd', {}, yesNo(r.authorization))),
        el('div', {}, el('dt', {}, 'Sec-Fetch-Site'), el('dd', {}, el('code', {}, r.sec_fetch_site ?? '—'))),
        el('div', {}, el('dt', {}, 'Origin'), el('dd', {}, el('code', {}, r.origin ?? '—'))),
      ),
      el('p', { className: 'hint' }, t(`lab.explain.${kind}`)),
    );
  });
  result.replaceChildren(el('p', {}, t('lab.from', { origin: other })), el('ul', { className: 'lab-results' }, items), el('p', { className: 'hint' }, t('lab.bearerNote')));
  const read = records.find((r) => r.kind === 'cors-read');
  cross.dataset.outcome = read?.outcome ?? 'missing';
  cross.textContent = t(`lab.cors.${read?.outcome ?? 'missing'}`, { origin: other });
}
