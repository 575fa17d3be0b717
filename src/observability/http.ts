/**
 * Request-side observation: the duration of every request by route template (never the raw path),
 * rate-limit blocks and throttled logins (429 on a login route), cache hits of request
 * authentication, and the spans of Gatehouse's routes and of authentication.
 *
 * The hot path stays allocation-light: a request's series is found from its route once, the start
 * time and series ride on the response under symbols, and one shared `finish` listener records them.
 */
import { timingSafeEqual, createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Tracer } from '@opentelemetry/api';
import type { AuthObserver } from '../http/middleware.js';
import type { RequestObserver } from '../http/handler.js';
import type { RouteDef } from '../http/router.js';
import { sendProblem } from '../http/problem.js';
import type { LightSeries } from './light-histogram.js';
import type { GatehouseMetrics } from './metrics.js';
import { inSpan, tracing } from './tracing.js';

const kStart = Symbol('gatehouse.requestStart');
const kRoute = Symbol('gatehouse.requestRoute');

interface Timed {
  [kStart]?: number;
  [kRoute]?: RouteSeries;
}

/** Login routes (relative to the base path) and their way in: a 429 there is a throttled login. */
const LOGIN_ROUTES: Record<string, string> = {
  'POST /login': 'password',
  'POST /login/mfa': 'mfa',
  'POST /passkeys/login': 'passkey',
  'POST /oidc/exchange': 'oidc',
  'GET /oidc/:provider/callback': 'oidc',
  'POST /oidc/:provider/callback': 'oidc',
};

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** The series of one route template and method, split by status on first use of each. */
class RouteSeries {
  private readonly byStatus = new Map<number, LightSeries>();
  constructor(
    private readonly metrics: GatehouseMetrics,
    readonly route: string,
    readonly method: string,
    readonly login: string | null,
  ) {}

  series(status: number): LightSeries {
    let s = this.byStatus.get(status);
    if (!s) this.byStatus.set(status, (s = this.metrics.httpDuration.child([this.route, this.method, String(status)])));
    return s;
  }
}

/** Times requests: `start` when a request comes in, `route` once its template is known. */
export class RequestTimer {
  private readonly byTemplate = new Map<string, RouteSeries>();
  private readonly byRoute = new WeakMap<RouteDef, RouteSeries>();
  private readonly byExpressRoute = new WeakMap<object, Map<string, RouteSeries>>();
  private readonly unmatched = new Map<string, RouteSeries>();
  private readonly onFinish: (this: ServerResponse) => void;

  constructor(private readonly metrics: GatehouseMetrics) {
    const timer = this;
    this.onFinish = function (this: ServerResponse) {
      const t = this as ServerResponse & Timed;
      const start = t[kStart];
      if (start === undefined) return;
      const rs = t[kRoute] ?? timer.fallback(this.req);
      const status = this.statusCode;
      rs.series(status).observe((performance.now() - start) / 1000);
      if (status === 429) {
        metrics.rateLimitBlocks.inc({ route: rs.route });
        if (rs.login !== null) metrics.logins.inc({ result: 'throttled', method: rs.login });
      }
    };
  }

  /** Starts timing a response (once; a later call keeps the first start). */
  start(res: ServerResponse): void {
    const t = res as ServerResponse & Timed;
    if (t[kStart] !== undefined) return;
    t[kStart] = performance.now();
    res.on('finish', this.onFinish);
  }

  /** Names the response's route (a Gatehouse route under `base`) and starts timing it if nothing did. */
  route(res: ServerResponse, route: RouteDef, base: string): void {
    let rs = this.byRoute.get(route);
    if (!rs) {
      const key = `${route.method} ${route.path}`;
      rs = this.series(base + (route.path === '/' && base ? '' : route.path), route.method, LOGIN_ROUTES[key] ?? null);
      this.byRoute.set(route, rs);
    }
    (res as ServerResponse & Timed)[kRoute] = rs;
    this.start(res);
  }

  private series(route: string, method: string, login: string | null): RouteSeries {
    const key = `${method} ${route}`;
    let rs = this.byTemplate.get(key);
    if (!rs) this.byTemplate.set(key, (rs = new RouteSeries(this.metrics, route, method, login)));
    return rs;
  }

  /** A request no Gatehouse route named: the framework's route template when it has one (Express), else "unmatched". */
  private fallback(req: IncomingMessage): RouteSeries {
    const method = req.method !== undefined && METHODS.has(req.method) ? req.method : 'OTHER';
    // Express names the route template it matched (code, not input). Its `baseUrl` is the matched
    // path itself, possibly with parameter values in it, so a router's mount path is never added.
    const route = (req as IncomingMessage & { route?: { path?: unknown } }).route;
    if (route === undefined || typeof route.path !== 'string' || route.path.length > 200) {
      let rs = this.unmatched.get(method);
      if (!rs) this.unmatched.set(method, (rs = this.series('unmatched', method, null)));
      return rs;
    }
    // One lookup by the route object (no key string built per request).
    let byMethod = this.byExpressRoute.get(route);
    if (!byMethod) this.byExpressRoute.set(route, (byMethod = new Map()));
    let rs = byMethod.get(method);
    if (!rs) byMethod.set(method, (rs = this.series(route.path, method, null)));
    return rs;
  }

  /** Express/Connect middleware that times every request of an application. */
  readonly middleware = (_req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    this.start(res);
    next();
  };
}

/** The observer the Gatehouse handler calls for each matched route: times it, and traces it when tracing. */
export function requestObserver(base: string, timer: RequestTimer | null, tracer: Tracer | null): RequestObserver {
  return {
    run(_req, res, route, run) {
      timer?.route(res, route, base);
      if (!tracer) return run();
      const template = base + route.path;
      const name = route.path === '/login' ? 'gatehouse.login' : route.path === '/refresh' ? 'gatehouse.refresh' : `gatehouse ${route.method} ${template}`;
      return inSpan(tracer, name, { 'http.route': template, 'http.request.method': route.method }, async (span) => {
        await run();
        span.setAttribute('http.response.status_code', res.statusCode);
      });
    },
  };
}

const TRANSPORT_INDEX = { cookie: 0, bearer: 1 } as const;

/** Counts authentications decided by the caches or not, and traces the ones that were not. */
export function authObserver(metrics: GatehouseMetrics | null, tracer: Tracer | null): AuthObserver {
  return {
    cached(transport) {
      if (metrics) metrics.authHits[TRANSPORT_INDEX[transport]]! += 1;
      // A cache hit costs no I/O: a span for it only when the application is tracing this request.
      if (tracer && tracing()) tracer.startSpan('gatehouse.authenticate', { attributes: { 'gatehouse.auth.transport': transport, 'gatehouse.auth.cache': 'hit' } }).end();
    },
    uncached(transport, run) {
      if (metrics) metrics.authMisses[TRANSPORT_INDEX[transport]]! += 1;
      if (!tracer) return run();
      return inSpan(tracer, 'gatehouse.authenticate', { 'gatehouse.auth.transport': transport, 'gatehouse.auth.cache': 'miss' }, () => run());
    },
  };
}

/** Constant-time comparison of a presented bearer token with the configured one (hashed first: equal lengths). */
export function tokenMatches(presented: string, expected: string): boolean {
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/**
 * `GET /metrics`: the text exposition. With `token`, only for `Authorization: Bearer <token>`
 * (401 otherwise, compared in constant time).
 */
export function metricsHandler(metrics: Pick<GatehouseMetrics, 'scrape'>, opts: { token?: string | null } = {}) {
  const token = opts.token ?? null;
  return (req: IncomingMessage, res: ServerResponse): void => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return sendProblem(res, 'method_not_allowed');
    }
    if (token !== null) {
      const m = /^Bearer +(\S+) *$/i.exec(req.headers.authorization ?? '');
      if (!m || !tokenMatches(m[1]!, token)) {
        res.setHeader('WWW-Authenticate', 'Bearer realm="metrics"');
        return sendProblem(res, 'unauthenticated');
      }
    }
    metrics.scrape().then(
      ({ contentType, body }) => {
        res.statusCode = 200;
        res.setHeader('Content-Type', contentType);
        res.setHeader('Cache-Control', 'no-store');
        res.end(req.method === 'HEAD' ? undefined : body);
      },
      () => sendProblem(res, 'internal'),
    );
  };
}
