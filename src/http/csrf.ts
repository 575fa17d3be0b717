/**
 * Cross-site request forgery check for cookie-authenticated requests, from the headers browsers set
 * themselves and a page cannot forge (`Origin`, `Sec-Fetch-Site`). No token is needed.
 *
 * An unsafe request (POST, PUT, PATCH, DELETE) without an `Authorization` header is refused with
 * 403 `csrf_rejected` when:
 * - its `Origin` is `null`, or is neither an allowed origin (the public URL's, the configured
 *   list, the CORS list) nor the origin the request was addressed to (its `Host`);
 * - it has no `Origin` and `Sec-Fetch-Site` is `cross-site` or `same-site`.
 *
 * A request with neither header is let through: curl, server-side callers and native apps send
 * neither, while every browser that can be made to send a request cross-site sends `Origin` on
 * unsafe methods (and `Sec-Fetch-Site`), and the session cookie is `SameSite=Lax` besides. JSON
 * endpoints refuse the content types a cross-site form can send (415, see body.ts), which closes the
 * remaining gap for any browser old enough to send neither.
 *
 * A request carrying `Authorization` is not checked: a browser never attaches that header on its
 * own, so such a request cannot be forged cross-site (a page that sets it needs a CORS preflight).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GatehouseConfig } from '../config.js';
import { sendProblem } from './problem.js';

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Whether a method changes state (and so must not be forgeable cross-site). */
export const isUnsafeMethod = (method: string | undefined): boolean => UNSAFE.has(method ?? 'GET');

export interface CsrfOptions {
  /** The public base URL; its origin is always allowed. */
  publicUrl: string;
  /** Further allowed origins (already normalised, e.g. `https://app.example.com`). */
  allowedOrigins?: readonly string[];
}

/** The host (`name[:port]`) part of an origin, lower-cased, without a default port. */
function originHost(origin: string): string | null {
  try {
    const u = new URL(origin);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return null;
    return u.host.toLowerCase();
  } catch {
    return null;
  }
}

/** The allowed origins of a deployment: its public URL's, the CSRF list and the CORS list. */
export function csrfOptions(config: Pick<GatehouseConfig, 'publicUrl' | 'csrf' | 'cors'>): CsrfOptions {
  return { publicUrl: config.publicUrl, allowedOrigins: [...config.csrf.allowedOrigins, ...config.cors.origins] };
}

/** Returns a `before` hook: answers 403 and returns true when the request is refused. */
export function csrfGuard(opts: CsrfOptions): (req: IncomingMessage, res: ServerResponse) => boolean {
  const verdict = csrfVerdict(opts);
  return (req, res) => {
    if (verdict(req)) return false;
    sendProblem(res, 'csrf_rejected');
    return true;
  };
}

/**
 * The rule above as a predicate: true when the request may proceed. Application routes use it too,
 * through the adapters' `requireAuth` / `authenticate` (see middleware.ts).
 */
export function csrfVerdict(opts: CsrfOptions): (req: IncomingMessage) => boolean {
  const allowed = new Set([new URL(opts.publicUrl).origin, ...(opts.allowedOrigins ?? [])].map((o) => o.toLowerCase()));
  const verdict = (req: IncomingMessage): boolean => {
    if (!isUnsafeMethod(req.method)) return true;
    if (req.headers.authorization !== undefined) return true;
    const site = req.headers['sec-fetch-site'];
    const crossSite = site === 'cross-site' || site === 'same-site';
    const origin = req.headers.origin;
    if (origin === undefined) return !crossSite;
    if (origin === 'null' || origin.length > 2048) return false;
    if (allowed.has(origin.toLowerCase())) return true;
    // Same-origin by the request's own Host (covers a server reached under another name than the
    // public URL, e.g. 127.0.0.1 in development). A browser cannot send a mismatching pair.
    if (crossSite) return false;
    const host = req.headers.host;
    const oh = originHost(origin);
    return typeof host === 'string' && oh !== null && oh === host.toLowerCase();
  };
  return verdict;
}
