// Messages come from /i18n/<lang>.json; the page holds no text of its own.
const SUPPORTED = ['en', 'ko'];
let messages = {};
let current = 'en';

export function lang() {
  return current;
}

export async function loadLanguage(wanted) {
  const l = SUPPORTED.includes(wanted) ? wanted : 'en';
  const res = await fetch(`/i18n/${l}.json`, { credentials: 'same-origin' });
  if (!res.ok) throw new Error(`messages for ${l} unavailable`);
  messages = await res.json();
  current = l;
  document.documentElement.lang = l;
}

/** The message for `key` with `{name}` placeholders filled; the key itself if missing (visible in tests). */
export function t(key, vars = {}) {
  const m = messages[key];
  if (typeof m !== 'string') return key;
  return m.replace(/\{(\w+)\}/g, (_, k) => (vars[k] === undefined ? `{${k}}` : String(vars[k])));
}

export function has(key) {
  return typeof messages[key] === 'string';
}

/** Fills every `data-i18n` element under `root` (text) and `data-i18n-attr="attr:key;…"` (attributes). */
export function applyMessages(root = document) {
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-attr]')) {
    for (const pair of el.dataset.i18nAttr.split(';')) {
      const [attr, key] = pair.split(':');
      if (attr && key) el.setAttribute(attr.trim(), t(key.trim()));
    }
  }
}

export function formatTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '—';
  return new Intl.DateTimeFormat(current === 'ko' ? 'ko-KR' : 'en-GB', { dateStyle: 'medium', timeStyle: 'medium' }).format(d);
}

/** Remembers the choice in a non-sensitive cookie the server reads on the next page load. */
export function rememberLanguage(l) {
  document.cookie = `lang=${encodeURIComponent(l)}; Path=/; Max-Age=31536000; SameSite=Lax`;
}
