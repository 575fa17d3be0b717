/**
 * CORS for browser apps on other origins, from an explicit allow-list that is empty by default.
 * Only an allowed origin is ever echoed in `Access-Control-Allow-Origin`, and only then paired with
 * `Access-Control-Allow-Credentials`; any other origin gets no CORS header at all, so the browser
 * keeps the response from the page. A wildcard is never used: these responses carry credentials.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

const ALLOW_METHODS = 'GET, POST, PUT, PATCH, DELETE';
const ALLOW_HEADERS = 'Authorization, Content-Type';
const EXPOSE_HEADERS = 'Retry-After, WWW-Authenticate';
const PREFLIGHT_MAX_AGE = '600';

export interface CorsPolicy {
  /**
   * Adds CORS headers for an allowed origin. Returns true when it answered the request itself (a
   * preflight from an allowed origin, 204); anything else continues to the routes.
   */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
}

export function corsPolicy(origins: readonly string[]): CorsPolicy {
  const allowed = new Set(origins.map((o) => o.toLowerCase()));
  return {
    handle(req, res) {
      if (allowed.size === 0) return false;
      res.appendHeader('Vary', 'Origin');
      const origin = req.headers.origin;
      if (origin === undefined || !allowed.has(origin.toLowerCase())) return false;
      // The configured spelling, never the request's bytes.
      const echo = origins.find((o) => o.toLowerCase() === origin.toLowerCase())!;
      res.setHeader('Access-Control-Allow-Origin', echo);
      res.setHeader('Access-Control-Allow-Credentials', 'true');
      if (req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined) {
        res.appendHeader('Vary', 'Access-Control-Request-Method, Access-Control-Request-Headers');
        res.setHeader('Access-Control-Allow-Methods', ALLOW_METHODS);
        res.setHeader('Access-Control-Allow-Headers', ALLOW_HEADERS);
        res.setHeader('Access-Control-Max-Age', PREFLIGHT_MAX_AGE);
        res.setHeader('Cache-Control', 'no-store');
        res.statusCode = 204;
        res.end();
        return true;
      }
      res.setHeader('Access-Control-Expose-Headers', EXPOSE_HEADERS);
      return false;
    },
  };
}
