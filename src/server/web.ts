/**
 * Serves the web UI (web/): one HTML shell at the page paths, its scripts and styles, and the
 * message files. The UI is a client of the public HTTP API only. HTML goes out with a strict CSP
 * (no inline script or style, nothing third-party) and is never cached; the language is chosen
 * from `?lang=`, then the `lang` cookie, then Accept-Language.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import express, { type Request, type Response, type Router } from 'express';

export const WEB_LANGUAGES = ['en', 'ko'] as const;
export type WebLanguage = (typeof WEB_LANGUAGES)[number];

export const WEB_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

// The account-lifecycle pages match the links mailed by src/core/lifecycle.ts (LINK_PATHS).
const PAGES = ['/', '/signin', '/signup', '/account', '/explorer', '/forgot', '/reset', '/verify-email', '/confirm-email', '/signin/verify', '/security'];

// web/ sits two levels above this file both in src/server and in dist/server.
const WEB_DIR = fileURLToPath(new URL('../../web/', import.meta.url));

const isLanguage = (v: unknown): v is WebLanguage => typeof v === 'string' && (WEB_LANGUAGES as readonly string[]).includes(v);

/** The best supported language of an Accept-Language header (q-values honoured), or null. */
export function pickLanguage(header: string | undefined): WebLanguage | null {
  if (!header) return null;
  let best: { lang: WebLanguage; q: number } | null = null;
  for (const part of header.slice(0, 512).split(',')) {
    const [tag, ...params] = part.trim().split(';');
    const primary = tag!.trim().toLowerCase().split('-')[0];
    if (!isLanguage(primary)) continue;
    let q = 1;
    for (const p of params) {
      const m = /^\s*q\s*=\s*([01](?:\.\d{0,3})?)\s*$/.exec(p);
      if (m) q = Number(m[1]);
    }
    if (q > 0 && (!best || q > best.q)) best = { lang: primary, q };
  }
  return best?.lang ?? null;
}

function cookieLanguage(req: Request): WebLanguage | null {
  const raw = req.headers.cookie;
  if (typeof raw !== 'string' || raw.length > 8192) return null;
  for (const part of raw.split(';')) {
    const [k, v] = part.split('=');
    if (k?.trim() === 'lang' && isLanguage(v?.trim())) return v!.trim() as WebLanguage;
  }
  return null;
}

function securityHeaders(res: Response): void {
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
}

/** The web UI's routes; mount at the root, before the catch-all 404. */
export function webRoutes(): Router {
  const shell = readFileSync(WEB_DIR + 'index.html', 'utf8');
  const rendered = new Map<WebLanguage, string>(WEB_LANGUAGES.map((l) => [l, shell.replace('{{lang}}', l)]));
  const router = express.Router({ caseSensitive: true, strict: true });

  const page = (req: Request, res: Response) => {
    const q = req.query.lang;
    const fromQuery = isLanguage(q) ? q : null;
    const lang = fromQuery ?? cookieLanguage(req) ?? pickLanguage(req.headers['accept-language']) ?? 'en';
    securityHeaders(res);
    res.setHeader('Content-Security-Policy', WEB_CSP);
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Content-Language', lang);
    res.setHeader('Vary', 'Accept-Language, Cookie');
    // The choice is not sensitive; a script-readable cookie lets the switch update it too.
    if (fromQuery) res.append('Set-Cookie', `lang=${fromQuery}; Path=/; Max-Age=31536000; SameSite=Lax`);
    res.type('html').send(rendered.get(lang));
  };
  for (const p of PAGES) router.get(p, page);

  const assets = (dir: string) =>
    express.static(WEB_DIR + dir, {
      index: false,
      dotfiles: 'ignore',
      fallthrough: true,
      etag: true,
      lastModified: false,
      setHeaders: (res) => {
        securityHeaders(res as Response);
        res.setHeader('Cache-Control', 'no-cache');
      },
    });
  router.use('/assets', assets('assets'));
  router.use('/i18n', assets('i18n'));
  return router;
}
