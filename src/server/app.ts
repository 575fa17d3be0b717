/**
 * The standalone server: Gatehouse's routes, JWKS, health, request logs and graceful shutdown,
 * wired from a validated config. `createServerApp` is also what the HTTP tests start on port 0.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import express, { type Express } from 'express';
import helmet from 'helmet';
import type { Logger } from 'pino';
import type { GatehouseConfig } from '../config.js';
import type { ClaimsHook } from '../core/tokens.js';
import { createGatehouse, type Gatehouse } from '../http/express.js';
import { metricsHandler } from '../observability/http.js';
import { problemBody, sendJson } from '../http/problem.js';
import { mailerFromConfig } from '../mail/index.js';
import type { Clock, Random, Stores } from '../ports.js';
import { explorerLab } from './explorer-lab.js';
import { captureHeaders, frontHandler } from './front.js';
import { requestLine } from './logger.js';
import { COUNTERS_PATH, sessionCounters, type SessionCounters } from './session-counters.js';
import { webUi } from './web.js';
import { serveMetrics, shareWithPrimary, type MetricsServer } from './metrics.js';

export interface ServerAppOptions {
  config: GatehouseConfig;
  logger: Logger;
  stores?: Stores;
  clock?: Clock;
  random?: Random;
  claims?: ClaimsHook;
  /** A worker of `serve --workers`: its metrics go to the primary, which serves the metrics port. */
  clusterWorker?: boolean;
}

export interface ServerApp {
  app: Express;
  gatehouse: Gatehouse;
  server: Server;
  /** Per-session request and store-use counts (GET /auth/session/counters). */
  counters: SessionCounters;
  /** The metrics port's server when `GATEHOUSE_METRICS_PORT` is set (its port once listening), else null. */
  metricsServer: MetricsServer | null;
  /** Starts listening (and the metrics port, when set); resolves the bound port. */
  listen(port?: number, host?: string): Promise<number>;
  /** Stops accepting, lets in-flight requests finish, closes the stores. */
  close(): Promise<void>;
}

export async function createServerApp(opts: ServerAppOptions): Promise<ServerApp> {
  const { config, logger } = opts;
  const mail = mailerFromConfig(config, logger);
  logger.info({ mailer: mail.describe }, mail.kind === 'smtp' ? `mail is sent through ${mail.describe}` : 'mail is written to this log (development mailer): set GATEHOUSE_SMTP_URL to send it');
  const counters = sessionCounters();
  let gatehouse: Gatehouse;
  try {
    gatehouse = await createGatehouse({
      config,
      mailer: mail.mailer,
      wrapStores: counters.wrap,
      ...(opts.stores ? { stores: opts.stores } : {}),
      ...(opts.clock ? { clock: opts.clock } : {}),
      ...(opts.random ? { random: opts.random } : {}),
      ...(opts.claims ? { claims: opts.claims } : {}),
      // Off unless a way to reach them safely is configured: a port of their own or a token.
      ...(config.metrics.port !== null || config.metrics.token !== null ? { metrics: true } : {}),
      logger,
    });
  } catch (e) {
    // Whatever the composition opened it has closed again; the mailer is ours.
    mail.mailer.close?.();
    throw e;
  }
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.trustProxy);
  app.set('etag', false);
  // Security headers on every response (set by the front door, server/front.ts, from this helmet
  // configuration). The CSP is strict (same-origin scripts and styles, no inline
  // code, no framing) and matches the web UI's; HSTS only where the public URL is https.
  const securityHeaders = captureHeaders(
    helmet({
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'"],
          imgSrc: ["'self'", 'data:'],
          connectSrc: ["'self'"],
          objectSrc: ["'none'"],
          frameAncestors: ["'none'"],
          baseUri: ["'none'"],
          formAction: ["'self'"],
        },
      },
      strictTransportSecurity: config.publicUrl.startsWith('https://') ? { maxAge: 31_536_000, includeSubDomains: true } : false,
      referrerPolicy: { policy: 'no-referrer' },
      xFrameOptions: { action: 'deny' },
    }),
  );

  app.get('/healthz', (_req, res, next) => {
    gatehouse.core.ping().then(() => {
      res.setHeader('Cache-Control', 'no-store');
      res.json({ status: 'ok' });
    }, next);
  });
  // Readiness, dependency by dependency: 503 while any required one is down (load balancers, systemd).
  app.get('/readyz', (_req, res, next) => {
    gatehouse.readiness().then((r) => {
      if (r.ready) return sendJson(res, 200, { status: 'ready', checks: r.checks });
      // A problem like every refusal, with the checks as an extension member: which dependency is down.
      sendJson(res, 503, { ...problemBody('not_ready'), checks: r.checks }, 'application/problem+json');
    }, next);
  });
  const metricsServer = gatehouse.metrics && config.metrics.port !== null && !opts.clusterWorker ? serveMetrics(gatehouse.metrics.metrics, config.metrics.host, config.metrics.port) : null;
  if (gatehouse.metrics && opts.clusterWorker) await shareWithPrimary(gatehouse.metrics.metrics);
  if (gatehouse.metrics && config.metrics.token !== null) app.get('/metrics', metricsHandler(gatehouse.metrics.metrics, { token: config.metrics.token }));
  // The API's OpenAPI 3.1 description (openapi/ sits two levels above this file in src/ and dist/).
  app.get('/openapi.json', (_req, res) => res.type('application/json').sendFile(fileURLToPath(new URL('../../openapi/openapi.json', import.meta.url))));
  app.use(gatehouse.wellKnown);
  const web = webUi();
  app.use(web.router);
  app.use(explorerLab(config));
  app.use(counters.countRequests, counters.routes(gatehouse.requireAuth));
  app.use('/auth', gatehouse.router);
  if (config.admin.enabled) app.use('/admin/api', gatehouse.admin);
  app.use(web.notFound);
  app.use(gatehouse.errorHandler);

  // Security headers, the request log line, and API requests past Express (see front.ts).
  const front = frontHandler({
    headers: securityHeaders,
    log: requestLine(logger),
    auth: gatehouse.prefixedAuthHandler,
    wellKnown: gatehouse.wellKnownHandler,
    basePath: gatehouse.basePath,
    expressPaths: new Set([COUNTERS_PATH]),
    onAuthRequest: (_req, res) => counters.countRequest(res),
    app,
    // Every request is timed (by route template; "unmatched" when no route answered it), API ones too.
    ...(gatehouse.metrics ? { first: gatehouse.metrics.requestTimer } : {}),
  });
  const server = createServer({ maxHeaderSize: 16 * 1024, requestTimeout: 30_000, headersTimeout: 10_000 }, front);
  server.keepAliveTimeout = 65_000;

  let closing: Promise<void> | null = null;
  return {
    app,
    gatehouse,
    server,
    counters: counters.counters,
    metricsServer,
    async listen(port = config.port, host = config.host) {
      await metricsServer?.listen();
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
      });
    },
    close() {
      closing ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
        });
        await metricsServer?.close();
        await gatehouse.close();
        mail.mailer.close?.();
      })();
      return closing;
    },
  };
}
