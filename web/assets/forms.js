// Field errors from the API's problem responses (`field`, `code`), and the rate-limit message.
import { formatTime, has, t } from './i18n.js';

/** Where an error without a `field` belongs, per form. */
const FALLBACK_FIELD = { email_taken: 'email', invalid_email: 'email' };

export function clearErrors(form) {
  for (const el of form.querySelectorAll('[data-error-for]')) el.textContent = '';
  for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
}

export function problemMessage(res) {
  if (res.status === 429) {
    const seconds = res.retryAfter ?? 60;
    const time = formatTime(new Date(Date.now() + seconds * 1000).toISOString());
    if (seconds >= 120) return t('error.rate_limited_minutes', { minutes: Math.ceil(seconds / 60), time });
    return t('error.rate_limited', { seconds, time });
  }
  const key = `error.${res.code}`;
  if (res.code && has(key)) return t(key);
  // A code newer than these message files: the API's own (English) title beats saying nothing.
  if (typeof res.body?.title === 'string') return res.body.title;
  return t('error.unknown', { status: res.status });
}

/** Shows the problem next to its field (and focuses it), or at the form level. */
export function showProblem(form, res) {
  clearErrors(form);
  const msg = problemMessage(res);
  let field = res.body?.field ?? FALLBACK_FIELD[res.code] ?? null;
  let slot = field ? form.querySelector(`[data-error-for="${CSS.escape(field)}"]`) : null;
  if (!slot) {
    field = null;
    slot = form.querySelector('[data-error-for="_form"]');
  }
  slot.textContent = msg;
  slot.dataset.code = res.code ?? String(res.status);
  const input = field ? form.querySelector(`[name="${CSS.escape(field)}"]`) : null;
  if (input) {
    input.setAttribute('aria-invalid', 'true');
    input.focus();
  } else {
    slot.setAttribute('tabindex', '-1');
    slot.focus();
  }
}

export function busy(form, on) {
  for (const b of form.querySelectorAll('button')) b.disabled = on;
  form.setAttribute('aria-busy', on ? 'true' : 'false');
}
