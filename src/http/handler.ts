/**
 * The framework-neutral Gatehouse HTTP handler: `(req, res, next?)` over node:http. Adapters for
 * Express, Fastify, Hono and plain node:http all call this, so the routes, status codes, headers and
 * problem bodies are the same whatever the framework.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuthCore, CoreLogger } from '../core/auth.js';
import { isGatehouseError } from '../errors.js';
import type { CorsPolicy } from './cors.js';
import type { Authenticator } from './middleware.js';
import { sendError, sendProblem } from './problem.js';
import type { RouteDef, Router } from './router.js';

export type NodeHandler = (req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void) => void;

export interface HandlerOptions {
  router: Router;
  authenticator: Authenticator;
  /** Prefix stripped from the path before matching (for adapters that do not strip a mount path). */
  prefix?: string;
  /** Unknown paths call `next()` (or 404 when there is none) instead of answering 404. */
  fallthrough?: boolean;
  logger?: CoreLogger;
  /** Hooks run before the route (CSRF, rate limits…); one that answered returns true. */
  before?: Array<(req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>>;
  /** CORS for allowed origins, applied before routing so that preflights (OPTIONS) are answered. */
  cors?: CorsPolicy;
  /** Watches each matched route (metrics, traces): runs `run` and resolves when it has. */
  observe?: RequestObserver;
}

/** What the handler tells an observer about a request it routes (see src/observability/http.ts). */
export interface RequestObserver {
  run(req: IncomingMessage, res: ServerResponse, route: RouteDef, run: () => Promise<void>): Promise<void>;
}

/** Maps anything thrown by a route to a problem response; a 5xx never carries internals. */
export function respondError(res: ServerResponse, err: unknown, logger?: CoreLogger): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (isGatehouseError(err)) {
    if (err.code === 'store_unavailable') logger?.warn({ err: { message: err.message, cause: String(err.cause ?? '') } }, 'store unavailable');
    return sendError(res, err);
  }
  logger?.error({ err }, 'unhandled error');
  sendProblem(res, 'internal');
}

export function createHandler(opts: HandlerOptions): NodeHandler {
  const { router, authenticator, logger } = opts;
  const prefix = opts.prefix ?? '';
  return (req, res, next) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    let pathname = q < 0 ? url : url.slice(0, q);
    if (prefix) {
      if (pathname !== prefix && !pathname.startsWith(prefix + '/')) return next ? next() : sendProblem(res, 'not_found');
      pathname = pathname.slice(prefix.length) || '/';
    }
    const m = router.match(req.method ?? 'GET', pathname);
    if (m === null) {
      if (opts.fallthrough && next) return next();
      return sendProblem(res, 'not_found');
    }
    // Every Gatehouse answer is data, never a page to sniff or a URL to leak in a Referer.
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    if (opts.cors?.handle(req, res)) return;
    if (m.kind === 'method') {
      res.setHeader('Allow', m.allow.join(', '));
      return sendProblem(res, 'method_not_allowed');
    }
    const run = async () => {
      for (const hook of opts.before ?? []) if (await hook(req, res)) return;
      const query = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
      const route = m.route;
      if (route.auth === 'optional') await authenticator.authenticate(req, res);
      else if (route.auth) {
        await authenticator.authenticate(req, res);
        const auth = req.auth;
        if (!auth) return authenticator.reject(req, res);
        return route.handler({ req, res, params: m.params, query, auth });
      }
      await route.handler({ req, res, params: m.params, query, auth: req.auth });
    };
    (opts.observe ? opts.observe.run(req, res, m.route, run) : run()).catch((e) => respondError(res, e, logger));
  };
}
