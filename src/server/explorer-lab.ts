/**
 * The explorer's cross-site lab. The explorer (on, say, http://localhost:3000) opens a page of this
 * server under its other loopback name (http://127.0.0.1:3000): another site, as far as the browser
 * is concerned. That page sends the kinds of request any site can make to this one (a fetch, a form
 * POST, a link, a CORS read) to the probe below, which records only what arrived: whether the browser
 * attached the session cookie, a refresh cookie or an Authorization header (never their values), and
 * the Origin and Sec-Fetch-Site headers. The explorer then reads the record of its run by its nonce.
 *
 * Nothing here touches the core or a credential; a run is a random nonce with at most a few short
 * records, kept in a bounded in-process map for a few minutes.
 */
import type { Request, Response, Router } from 'express';
import express from 'express';
import type { GatehouseConfig } from '../config.js';
import { securityHeaders } from './web.js';

const NONCE = /^[A-Za-z0-9_-]{22}$/;
const KINDS = ['fetch', 'form-post', 'navigation', 'cors-read'] as const;
type Kind = (typeof KINDS)[number];
const RUNS_MAX = 1000;
const RECORDS_MAX = 8;
const RUN_TTL_MS = 10 * 60_000;
/** The other origin of a loopback server: its two names. */
const LOOPBACK = /^http:\/\/(localhost|127\.0\.0\.1)(:\d{1,5})?$/;

export interface ProbeRecord {
  kind: Kind;
  method: string;
  origin: string | null;
  sec_fetch_site: string | null;
  session_cookie: boolean;
  refresh_cookie: boolean;
  authorization: boolean;
  /** cors-read only: what the other page could read ("blocked", or the signed-in state it saw). */
  outcome: string | null;
}

const header = (req: Request, name: string): string | null => {
  const v = req.headers[name];
  return typeof v === 'string' ? v.slice(0, 200) : null;
};

function hasCookie(req: Request, name: string): boolean {
  const raw = req.headers.cookie;
  if (typeof raw !== 'string') return false;
  return raw.split(';').some((p) => p.split('=')[0]!.trim() === name);
}

/** `/explorer/lab/*`: the other site's page, the probe, and the explorer's read-back. */
export function explorerLab(config: GatehouseConfig): Router {
  const runs = new Map<string, { at: number; records: ProbeRecord[] }>();
  const router = express.Router({ strict: true, caseSensitive: true });

  const prune = (now: number) => {
    for (const [k, v] of runs) {
      if (now - v.at < RUN_TTL_MS && runs.size <= RUNS_MAX) break;
      runs.delete(k);
    }
  };

  // The other site's page. Its script reads `target` and `n` from the address and sends the requests;
  // the CSP lets it connect to (and post forms to) that one loopback origin only.
  router.get('/explorer/lab/other-site', (req: Request, res: Response) => {
    const target = typeof req.query.target === 'string' ? req.query.target : '';
    const n = typeof req.query.n === 'string' ? req.query.n : '';
    if (!LOOPBACK.test(target) || !NONCE.test(n)) {
      res.status(400).type('text/plain').send('target must be this server under its other loopback name');
      return;
    }
    securityHeaders(res);
    res.setHeader(
      'Content-Security-Policy',
      `default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self' ${target}; frame-ancestors 'none'; base-uri 'none'; form-action 'self' ${target}`,
    );
    res.setHeader('Cache-Control', 'no-store');
    res.type('html').send(OTHER_SITE_HTML);
  });

  const record = (req: Request, res: Response) => {
    const n = String(req.params.n);
    const kind = String(req.params.kind) as Kind;
    if (!NONCE.test(n) || !KINDS.includes(kind)) {
      res.status(404).end();
      return;
    }
    const now = Date.now();
    prune(now);
    let run = runs.get(n);
    if (!run) {
      run = { at: now, records: [] };
      runs.set(n, run);
    }
    if (run.records.length < RECORDS_MAX) {
      const outcome = typeof req.query.outcome === 'string' && /^[a-z_-]{1,32}$/.test(req.query.outcome) ? req.query.outcome : null;
      run.records.push({
        kind,
        method: req.method,
        origin: header(req, 'origin'),
        sec_fetch_site: header(req, 'sec-fetch-site'),
        session_cookie: hasCookie(req, config.session.cookieName),
        refresh_cookie: hasCookie(req, config.token.refreshCookieName),
        authorization: req.headers.authorization !== undefined,
        outcome: kind === 'cors-read' ? outcome : null,
      });
    }
    res.setHeader('Cache-Control', 'no-store');
    if (kind === 'navigation') {
      // A link followed from the other site lands here: a page saying so, with the way back.
      securityHeaders(res);
      res.setHeader('Content-Security-Policy', "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'");
      res.type('html').send(LANDED_HTML);
      return;
    }
    // The other site's no-cors fetch may take the (empty) answer: nothing in it to protect.
    res.setHeader('Cross-Origin-Resource-Policy', 'cross-origin');
    res.status(204).end();
  };
  router.get('/explorer/lab/probe/:n/:kind', record);
  router.post('/explorer/lab/probe/:n/:kind', express.raw({ type: () => true, limit: 1024 }), record);

  // The explorer reads its run back (same origin: no CORS header, so no other site can).
  router.get('/explorer/lab/probe/:n', (req: Request, res: Response) => {
    const n = String(req.params.n);
    res.setHeader('Cache-Control', 'no-store');
    res.json({ records: NONCE.test(n) ? (runs.get(n)?.records ?? []) : [] });
  });
  return router;
}

const OTHER_SITE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Another site</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/assets/style.css">
<script type="module" src="/assets/other-site.js"></script>
</head>
<body class="other-site">
<main id="main">
<h1 id="other-h"></h1>
<p id="other-text"></p>
<ol id="other-steps" class="steps"></ol>
</main>
</body>
</html>
`;

const LANDED_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Gatehouse</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/assets/style.css">
<script type="module" src="/assets/landed.js"></script>
</head>
<body class="other-site">
<main id="main">
<h1 id="landed-h"></h1>
<p id="landed-text"></p>
<p><a id="landed-back" href="/explorer"></a></p>
</main>
</body>
</html>
`;
