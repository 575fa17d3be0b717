// Field errors from the API's problem responses (`field`, `code`), busy buttons, the rate-limit
// message, and the show/hide toggle of password fields.
import { formatTime, has, t } from './i18n.js';

/** Where an error without a `field` belongs, per form. */
const FALLBACK_FIELD = { email_taken: 'email', invalid_email: 'email' };

export function clearErrors(form) {
  for (const el of form.querySelectorAll('[data-error-for]')) el.textContent = '';
  for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
}

/** The message for a problem; `messages` maps a code to a message key that fits the form better. */
export function problemMessage(res, messages = {}) {
  if (res.status === 429) {
    const seconds = res.retryAfter ?? 60;
    const time = formatTime(new Date(Date.now() + seconds * 1000).toISOString());
    if (seconds >= 120) return t('error.rate_limited_minutes', { minutes: Math.ceil(seconds / 60), time });
    return t('error.rate_limited', { seconds, time });
  }
  if (res.code && messages[res.code]) return t(messages[res.code]);
  if (res.status === 0) return t('error.network');
  const key = `error.${res.code}`;
  if (res.code && has(key)) return t(key);
  // A code newer than these message files: the API's own (English) title beats saying nothing.
  if (typeof res.body?.title === 'string') return res.body.title;
  return t('error.unknown', { status: res.status });
}

/** Shows the problem next to its field (and focuses it), or at the form level. */
export function showProblem(form, res, messages = {}) {
  clearErrors(form);
  const msg = problemMessage(res, messages);
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

/**
 * Marks a form (all its buttons) or one button busy: disabled, `aria-busy`, and the button's label
 * switched to its `data-busy-i18n` message ("Signing in…") until it is done.
 */
export function busy(target, on) {
  const buttons = target instanceof HTMLButtonElement ? [target] : [...target.querySelectorAll('button')];
  for (const b of buttons) {
    if (b.dataset.reveal !== undefined) continue;
    b.disabled = on;
    if (b.dataset.busyI18n && (b.type === 'submit' || b === target)) {
      b.dataset.busy = on ? 'true' : 'false';
      b.textContent = t(on ? b.dataset.busyI18n : b.dataset.i18n);
    }
  }
  target.setAttribute('aria-busy', on ? 'true' : 'false');
}

/** Adds a show/hide toggle after every password field under `root` that has none yet. */
export function enhancePasswords(root) {
  for (const input of root.querySelectorAll('input[type="password"]:not([data-revealable])')) {
    input.dataset.revealable = '';
    const wrap = document.createElement('div');
    wrap.className = 'pw-wrap';
    input.replaceWith(wrap);
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'reveal';
    b.dataset.reveal = '';
    b.setAttribute('aria-controls', input.id);
    const label = () => {
      const shown = input.type === 'text';
      b.textContent = t(shown ? 'password.hide' : 'password.show');
      b.setAttribute('aria-label', t(shown ? 'password.hideLabel' : 'password.showLabel'));
    };
    b.addEventListener('click', () => {
      input.type = input.type === 'password' ? 'text' : 'password';
      label();
      input.focus();
    });
    label();
    wrap.append(input, b);
    // Never leave a password readable once it has been submitted or the form is reset.
    input.form?.addEventListener('submit', () => {
      input.type = 'password';
      label();
    });
    input.form?.addEventListener('reset', () => {
      input.type = 'password';
      label();
    });
  }
}

/** Relabels the toggles after a language switch. */
export function relabelPasswords(root) {
  for (const b of root.querySelectorAll('button[data-reveal]')) {
    const input = document.getElementById(b.getAttribute('aria-controls'));
    const shown = input?.type === 'text';
    b.textContent = t(shown ? 'password.hide' : 'password.show');
    b.setAttribute('aria-label', t(shown ? 'password.hideLabel' : 'password.showLabel'));
  }
}
