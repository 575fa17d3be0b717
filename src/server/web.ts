/**
 * Serves the web UI (web/): one HTML shell at the page paths, its scripts and styles, and the
 * message files. The UI is a client of the public HTTP API only. HTML goes out with a strict CSP
 * (no inline script or style, nothing third-party) and is never cached; the language is chosen
 * from `?lang=`, then the `lang` cookie, then Accept-Language.
 *
 * The shell is sent already in the chosen language: every `data-i18n` element is filled in, the
 * page's heading stands in `<main>` with a loading line until the scripts have run, and the messages
 * travel inside the page as a JSON data block (not a script: the CSP does not apply to it, and the
 * browser never runs it), so a slow network shows text at once instead of a blank page.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import express, { type Request, type Response, type Router } from 'express';
import { sendProblem } from '../http/problem.js';

export const WEB_LANGUAGES = ['en', 'ko'] as const;
export type WebLanguage = (typeof WEB_LANGUAGES)[number];

export const WEB_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

// The account-lifecycle pages match the links mailed by src/core/lifecycle.ts (LINK_PATHS).
const PAGES = ['/', '/signin', '/signup', '/account', '/explorer', '/forgot', '/reset', '/verify-email', '/confirm-email', '/signin/verify', '/security', '/admin', '/admin/user'];

// web/ sits two levels above this file both in src/server and in dist/server.
const WEB_DIR = fileURLToPath(new URL('../../web/', import.meta.url));
const ROOT_DIR = fileURLToPath(new URL('../../', import.meta.url));

/** Documents the explorer links to, served as plain UTF-8 text (Markdown source). */
const DOCS: Record<string, string> = {
  '/docs/choosing.md': 'docs/choosing.md',
  '/docs/choosing.ko.md': 'docs/choosing.ko.md',
  '/docs/README.ko.md': 'README.ko.md',
};

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

export function securityHeaders(res: Response): void {
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
}

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** JSON that can sit inside a `<script type="application/json">` element: no `<` can close it. */
const jsonForHtml = (v: unknown) => JSON.stringify(v).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');

type Messages = Record<string, string>;

/** The shell in one language: every message filled in, and the messages inline for the scripts. */
export function renderShell(shell: string, lang: WebLanguage, messages: Messages): string {
  const text = (key: string) => escapeHtml(messages[key] ?? key);
  let html = shell.replace('{{lang}}', lang);
  // Elements the HTML leaves empty for a message: <tag … data-i18n="key" …></tag>.
  html = html.replace(/(<([a-z][a-z0-9]*)\b[^>]*\sdata-i18n="([^"]+)"[^>]*>)(<\/\2>)/g, (_m, open: string, _tag, key: string, close: string) => `${open}${text(key)}${close}`);
  html = html.replace(/(<[a-z][a-z0-9]*\b[^>]*\sdata-i18n-attr="([^"]+)"[^>]*>)/g, (open: string, spec: string) => {
    let out = open;
    for (const pair of spec.split(';')) {
      const [attr, key] = pair.split(':').map((s) => s.trim());
      if (attr && key && !new RegExp(`\\s${attr}="`).test(out)) out = out.replace(/\s*\/?>$/, (end) => ` ${attr}="${text(key)}"${end}`);
    }
    return out;
  });
  const data = `<script type="application/json" id="messages" data-lang="${lang}">${jsonForHtml(messages)}</script>`;
  return html.replace('</head>', () => `${data}\n</head>`);
}

/** What `<main>` shows until the scripts run: the page's heading and a loading line. */
function skeleton(html: string, path: string, messages: Messages): string {
  const id = PAGES.includes(path) ? `page-${path === '/' ? 'home' : path.slice(1).replace(/\//g, '-')}` : 'page-notfound';
  const tpl = new RegExp(`<template id="${id}">([\\s\\S]*?)</template>`).exec(html)?.[1] ?? '';
  const h1 = /<h1\b[^>]*>[\s\S]*?<\/h1>/.exec(tpl)?.[0] ?? '';
  return `${h1}<p class="loading">${escapeHtml(messages['app.loading'] ?? '')}</p>`;
}

/** Whether a browser navigated here (it asks for HTML), rather than an API client. */
function wantsHtml(req: Request): boolean {
  const accept = req.headers.accept;
  return (req.method === 'GET' || req.method === 'HEAD') && typeof accept === 'string' && /\btext\/html\b/i.test(accept);
}

export interface WebUi {
  router: Router;
  /**
   * The last handler: a browser asking for an unknown page gets the UI's "Page not found" (404, HTML);
   * any other client gets the problem+json 404.
   */
  notFound: (req: Request, res: Response) => void;
}

/** The web UI's routes; mount `router` at the root before the API, and `notFound` last. */
export function webUi(): WebUi {
  const shell = readFileSync(WEB_DIR + 'index.html', 'utf8');
  const shells = new Map<WebLanguage, { html: string; messages: Messages }>(
    WEB_LANGUAGES.map((l) => {
      const messages = JSON.parse(readFileSync(`${WEB_DIR}i18n/${l}.json`, 'utf8')) as Messages;
      return [l, { html: renderShell(shell, l, messages), messages }];
    }),
  );
  const router = express.Router({ caseSensitive: true, strict: true });

  const page = (req: Request, res: Response, status = 200) => {
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
    const { html, messages } = shells.get(lang)!;
    const main = skeleton(html, status === 404 ? '' : req.path, messages);
    res.status(status).type('html').send(html.replace(/(<main\b[^>]*>)(<\/main>)/, (_m, open: string, close: string) => open + main + close));
  };
  for (const p of PAGES) router.get(p, (req, res) => page(req, res));

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

  for (const [path, file] of Object.entries(DOCS)) {
    router.get(path, (_req, res, next) => {
      let text: string;
      try {
        text = readFileSync(ROOT_DIR + file, 'utf8');
      } catch {
        return next(); // not shipped with this copy
      }
      securityHeaders(res);
      res.setHeader('Content-Security-Policy', WEB_CSP);
      res.setHeader('Cache-Control', 'no-cache');
      res.type('text/plain; charset=utf-8').send(text);
    });
  }

  return {
    router,
    notFound: (req, res) => (wantsHtml(req) ? page(req, res, 404) : sendProblem(res, 'not_found')),
  };
}

/** The web UI's routes; mount at the root, before the catch-all 404. */
export function webRoutes(): Router {
  return webUi().router;
}
