/**
 * Renders lifecycle messages as plain text plus HTML, in the reader's language (English or Korean).
 * Every variable is HTML-escaped; the link is the only thing a reader acts on.
 */
import { en } from './en.js';
import { ko } from './ko.js';
import type { Catalogue, MailKind, MailVars } from './types.js';

export type { MailKind, MailVars } from './types.js';

export const LOCALES = { en, ko } satisfies Record<string, Catalogue>;
export type Locale = keyof typeof LOCALES;
export const DEFAULT_LOCALE: Locale = 'en';

/**
 * Picks the best supported language from an Accept-Language header (RFC 9110 §12.5.4 weights);
 * English when nothing matches.
 *
 * @example
 * pickLocale('ko-KR,ko;q=0.9,en;q=0.8') // → 'ko'
 */
export function pickLocale(header: string | null | undefined): Locale {
  if (!header) return DEFAULT_LOCALE;
  let best: Locale = DEFAULT_LOCALE;
  let bestQ = 0;
  for (const part of header.slice(0, 512).split(',').slice(0, 32)) {
    const [tag, ...params] = part.trim().split(';');
    const primary = (tag ?? '').trim().toLowerCase().split('-')[0] ?? '';
    let q = 1;
    for (const p of params) {
      const m = /^\s*q\s*=\s*([01](?:\.\d{0,3})?)\s*$/.exec(p);
      if (m) q = Number(m[1]);
    }
    if (q > bestQ && Object.hasOwn(LOCALES, primary)) {
      best = primary as Locale;
      bestQ = q;
    }
  }
  return best;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

export function renderMail(kind: MailKind, locale: Locale, vars: MailVars): RenderedMail {
  const copy = LOCALES[locale][kind](vars);
  const text = [...copy.paragraphs, ...(vars.link ? [vars.link] : []), '', copy.footer].join('\n\n').replace(/\n{3,}/g, '\n\n') + '\n';
  const paras = copy.paragraphs.map((p) => `<p style="margin:0 0 16px">${escapeHtml(p)}</p>`).join('\n');
  const action = vars.link
    ? `<p style="margin:24px 0"><a href="${escapeHtml(vars.link)}" style="background:#1f4fd1;color:#fff;padding:12px 20px;border-radius:6px;text-decoration:none;display:inline-block">${escapeHtml(copy.button ?? vars.link)}</a></p>
<p style="margin:0 0 16px;font-size:13px;color:#555;word-break:break-all">${escapeHtml(vars.link)}</p>`
    : '';
  const html = `<!doctype html>
<html lang="${locale}"><head><meta charset="utf-8"><title>${escapeHtml(copy.subject)}</title></head>
<body style="font-family:system-ui,-apple-system,'Segoe UI','Apple SD Gothic Neo','Malgun Gothic',sans-serif;line-height:1.5;color:#111;max-width:560px;margin:0 auto;padding:24px">
${paras}
${action}
<p style="margin:32px 0 0;font-size:12px;color:#777">${escapeHtml(copy.footer)}</p>
</body></html>
`;
  return { subject: copy.subject, text, html };
}
