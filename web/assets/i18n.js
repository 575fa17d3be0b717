// Messages come from the page itself (the server sends the chosen language inline, as a JSON data
// block) or, after a language switch, from /i18n/<lang>.json. The HTML holds no text of its own.
const SUPPORTED = ['en', 'ko'];
let messages = {};
let current = 'en';

export function lang() {
  return current;
}

/** The BCP 47 locale for dates and numbers. */
export function locale() {
  return current === 'ko' ? 'ko-KR' : 'en-GB';
}

export async function loadLanguage(wanted) {
  const l = SUPPORTED.includes(wanted) ? wanted : 'en';
  const inline = document.getElementById('messages');
  if (inline && inline.dataset.lang === l) {
    messages = JSON.parse(inline.textContent);
  } else {
    const res = await fetch(`/i18n/${l}.json`, { credentials: 'same-origin' });
    if (!res.ok) throw new Error(`messages for ${l} unavailable`);
    messages = await res.json();
  }
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
  for (const el of root.querySelectorAll('[data-i18n]')) {
    // A busy button shows its busy label until it is done.
    if (el.dataset.busy === 'true' && el.dataset.busyI18n) el.textContent = t(el.dataset.busyI18n);
    else el.textContent = t(el.dataset.i18n);
  }
  for (const el of root.querySelectorAll('[data-i18n-attr]')) {
    for (const pair of el.dataset.i18nAttr.split(';')) {
      const [attr, key] = pair.split(':');
      if (attr && key) el.setAttribute(attr.trim(), t(key.trim()));
    }
  }
}

export function formatTime(iso) {
  if (iso === null || iso === undefined || iso === '') return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '—';
  return new Intl.DateTimeFormat(locale(), { dateStyle: 'medium', timeStyle: 'medium' }).format(d);
}

export function formatClock(ms) {
  return new Intl.DateTimeFormat(locale(), { timeStyle: 'medium' }).format(new Date(ms));
}

/** "just now" (or the message `nowKey` names), "5 minutes ago", "yesterday": how long ago `iso` was. */
export function formatAgo(iso, nowKey = 'time.justNow', now = Date.now()) {
  const when = new Date(iso).getTime();
  if (Number.isNaN(when)) return '—';
  // A time a little ahead (clocks differ between server and browser) reads as now, never "in 2 minutes".
  const s = Math.min(0, Math.round((when - now) / 1000));
  if (s > -60) return t(nowKey);
  const rtf = new Intl.RelativeTimeFormat(locale(), { numeric: 'auto' });
  const units = [
    ['day', 86_400],
    ['hour', 3600],
    ['minute', 60],
  ];
  for (const [unit, size] of units) {
    if (Math.abs(s) >= size) return rtf.format(Math.round(s / size), unit);
  }
  return t(nowKey);
}

/**
 * A countdown: "42.5s" under a minute, "9:41" under an hour, "5:09:41" under a day, "29d 23h" beyond
 * (units in the page's language), "expired" when past.
 */
export function formatLeft(ms) {
  if (!Number.isFinite(ms)) return '—';
  if (ms <= 0) return t('time.expired');
  // Under a minute the seconds count, with tenths (a 2-second test token is still readable).
  if (ms < 60_000) return new Intl.NumberFormat(locale(), { style: 'unit', unit: 'second', unitDisplay: 'narrow', minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(ms / 1000);
  const s = Math.floor(ms / 1000);
  const pad = (n) => String(n).padStart(2, '0');
  if (s < 3600) return `${Math.floor(s / 60)}:${pad(s % 60)}`;
  if (s < 86_400) return `${Math.floor(s / 3600)}:${pad(Math.floor((s % 3600) / 60))}:${pad(s % 60)}`;
  const unit = (value, u) => new Intl.NumberFormat(locale(), { style: 'unit', unit: u, unitDisplay: 'narrow' }).format(value);
  return `${unit(Math.floor(s / 86_400), 'day')} ${unit(Math.floor((s % 86_400) / 3600), 'hour')}`;
}

/** Remembers the choice in a non-sensitive cookie the server reads on the next page load. */
export function rememberLanguage(l) {
  document.cookie = `lang=${encodeURIComponent(l)}; Path=/; Max-Age=31536000; SameSite=Lax`;
}
