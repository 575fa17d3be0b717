// The explorer's "other site": this page is served under the server's other loopback name, which to
// the browser is another site. It sends the requests any site can send to the explorer's origin —
// a fetch, a form-style POST, a CORS read, and finally a link — each to a probe that records what the
// browser attached. It holds no credential of its own and reads none.
const params = new URLSearchParams(location.search);
const target = params.get('target') ?? '';
const run = params.get('n') ?? '';
const lang = params.get('lang') === 'ko' ? 'ko' : 'en';
document.documentElement.lang = lang;

const messages = await (await fetch(`/i18n/${lang}.json`)).json();
const t = (key, vars = {}) => (messages[key] ?? key).replace(/\{(\w+)\}/g, (_, k) => String(vars[k] ?? `{${k}}`));
document.title = t('lab.other.title');
document.getElementById('other-h').textContent = t('lab.other.title');
document.getElementById('other-text').textContent = t('lab.other.text', { origin: location.origin, target });
const steps = document.getElementById('other-steps');
const step = (key) => {
  const li = document.createElement('li');
  li.textContent = t(key);
  steps.append(li);
  return li;
};
const probe = (kind, extra = '') => `${target}/explorer/lab/probe/${run}/${kind}${extra}`;

// 1. A script's request (what an <img>, <script> or fetch() sends).
step('lab.kind.fetch');
await fetch(probe('fetch'), { mode: 'no-cors', credentials: 'include' }).catch(() => undefined);
// 2. A POST of the kind a hidden form can send, with a form's content type.
step('lab.kind.form-post');
await fetch(probe('form-post'), { method: 'POST', mode: 'no-cors', credentials: 'include', body: new URLSearchParams({ action: 'sign-out-everyone' }) }).catch(() => undefined);
// 3. Reading an answer: only CORS can allow it, and only for origins on the server's list.
step('lab.kind.cors-read');
let outcome = 'blocked';
try {
  const res = await fetch(`${target}/auth/session`, { credentials: 'include' });
  outcome = (await res.json())?.user ? 'signed-in' : 'signed-out';
} catch {
  outcome = 'blocked';
}
await fetch(probe('cors-read', `?outcome=${outcome}`), { mode: 'no-cors', credentials: 'include' }).catch(() => undefined);
// 4. A link the user follows: a top-level navigation to the other site.
step('lab.kind.navigation');
setTimeout(() => location.assign(probe('navigation', `?lang=${lang}`)), 600);
