/**
 * The standalone server's front door, on node:http before Express: every response gets the security
 * headers and one request log line here, then API requests (`/auth/*`, `/.well-known/*`) go straight
 * to Gatehouse's framework-neutral handler and everything else (web UI, health, OpenAPI) to Express.
 *
 * Why: Express 5 costs about 135 µs of a request here, most of it walking its middleware stack, and an
 * API request used to pass a dozen layers (helmet's thirteen middlewares, the log, the web UI's page
 * routes, the explorer lab, the counters) before reaching the same handler. The headers are helmet's
 * own, computed once at start from its middleware (it sends the same headers on every response), so
 * nothing is dropped and the configuration stays in one place (app.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NodeHandler } from '../http/handler.js';
import type { RequestLine } from './logger.js';

type Middleware = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;

/**
 * The headers a static header middleware (helmet) sets, captured once from a dry run. Throws when the
 * middleware does anything but set or remove headers synchronously — a request-dependent header could
 * not be precomputed.
 */
export function captureHeaders(mw: Middleware): Array<[string, string]> {
  const set = new Map<string, string>();
  const fakeRes = {
    setHeader(name: string, value: unknown) {
      set.set(name, Array.isArray(value) ? value.join(', ') : String(value));
      return fakeRes;
    },
    removeHeader(name: string) {
      set.delete(name);
    },
    getHeader: (name: string) => set.get(name),
    hasHeader: (name: string) => set.has(name),
  };
  let called = false;
  mw({ headers: {}, method: 'GET', url: '/' } as IncomingMessage, fakeRes as unknown as ServerResponse, (err) => {
    if (err) throw err;
    called = true;
  });
  if (!called) throw new Error('the header middleware did not finish synchronously');
  return [...set];
}

export interface FrontOptions {
  /** Headers every response carries (from captureHeaders). */
  headers: ReadonlyArray<[string, string]>;
  /** Writes the request line; null when the log level leaves request lines out. */
  log: RequestLine | null;
  /** Gatehouse's auth routes matched under their mount path; unknown paths call `next`. */
  auth: NodeHandler;
  /** `/.well-known/*`; unknown paths call `next`. */
  wellKnown: NodeHandler;
  basePath: string;
  /** Paths under the base path that Express serves (routes the server adds beside Gatehouse's). */
  expressPaths: ReadonlySet<string>;
  /** Runs for every request the auth handler gets (e.g. counting a session's requests). */
  onAuthRequest?: (req: IncomingMessage, res: ServerResponse) => void;
  /** Everything else. */
  app: (req: IncomingMessage, res: ServerResponse) => void;
  /**
   * Runs first for every request, whichever way it then goes, and calls `next` to continue (e.g. a
   * request timer that must see API requests, which no longer pass through Express).
   */
  first?: (req: IncomingMessage, res: ServerResponse, next: () => void) => void;
}

const START = Symbol('gatehouse.requestStart');
type Timed = ServerResponse & { [START]?: bigint };

export function frontHandler(opts: FrontOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const { headers, log, auth, wellKnown, app, expressPaths, onAuthRequest } = opts;
  const prefix = opts.basePath + '/';
  // One listener function for every response (no closure per request): `this` is the response.
  function logLine(this: Timed) {
    const ms = Number(process.hrtime.bigint() - this[START]!) / 1e6;
    const url = this.req.url ?? '/';
    const q = url.indexOf('?');
    log!(this.req.method ?? 'GET', (q < 0 ? url : url.slice(0, q)).slice(0, 200), this.statusCode, Math.round(ms * 100) / 100);
  }
  const route = (req: IncomingMessage, res: ServerResponse): void => {
    const url = req.url ?? '/';
    if (url.startsWith(prefix)) {
      const q = url.indexOf('?');
      if (!expressPaths.has(q < 0 ? url : url.slice(0, q))) {
        onAuthRequest?.(req, res);
        return auth(req, res, () => app(req, res));
      }
    } else if (url.startsWith('/.well-known/')) return wellKnown(req, res, () => app(req, res));
    app(req, res);
  };
  const { first } = opts;
  return (req, res) => {
    for (let i = 0; i < headers.length; i++) res.setHeader(headers[i]![0], headers[i]![1]);
    if (log) {
      (res as Timed)[START] = process.hrtime.bigint();
      res.on('finish', logLine);
    }
    if (first) first(req, res, () => route(req, res));
    else route(req, res);
  };
}
