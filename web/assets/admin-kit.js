// What the admin console's pages share: API calls that ask for a step-up when the API wants one,
// the refusal notice for someone who is no administrator, and small table and label helpers.
import { request, withReauth } from './api.js';
import { problemMessage } from './forms.js';
import { formatTime, has, t } from './i18n.js';

/** An admin API call; a `reauth_required` answer opens the step-up dialog and retries. */
export function adminCall(method, path) {
  return withReauth(() => request(method, path, method === 'GET' || method === 'DELETE' ? {} : { json: {} }));
}

/**
 * Shows the page body after a first successful answer, or the refusal (not an administrator, a
 * cancelled step-up, an outage) in its place. Resolves whether the page may go on.
 */
export function gate(main, res, ids = { refused: '#admin-refused', body: '#admin-body' }) {
  const refused = main.querySelector(ids.refused);
  const body = main.querySelector(ids.body);
  if (res.ok) {
    refused.hidden = true;
    body.hidden = false;
    return true;
  }
  refused.textContent = res.cancelled ? t('admin.reauthCancelled') : res.code === 'admin_required' ? t('admin.notAdmin') : problemMessage(res);
  refused.dataset.code = res.cancelled ? 'cancelled' : res.code ?? String(res.status);
  refused.hidden = false;
  body.hidden = true;
  return false;
}

/** A table cell with text (never HTML); `label` is its column's name, shown beside it on phones. */
export function cell(text, className, label) {
  const td = document.createElement('td');
  if (text instanceof Node) td.append(text);
  else td.textContent = text ?? '—';
  if (className) td.className = className;
  if (label) td.dataset.label = t(label);
  return td;
}

export function statusTag(status) {
  const s = document.createElement('span');
  s.className = 'status-tag';
  s.dataset.status = status;
  s.textContent = t(`admin.status.${status}`);
  return s;
}

/** An event type in words where the messages have it (the same keys as the account page), else as is. */
export function eventLabel(type) {
  const key = `event.${type}`;
  return has(key) ? t(key) : type;
}

export const when = (iso) => formatTime(iso);

/** A date input's value as the start of that day (UTC) in RFC 3339, or '' when empty. */
export function dayStart(value) {
  return value ? `${value}T00:00:00Z` : '';
}

/** The day after a date input's value (an inclusive "to" day becomes an exclusive bound). */
export function dayAfter(value) {
  if (!value) return '';
  const d = new Date(`${value}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString();
}
