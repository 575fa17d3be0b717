// Shared pieces of the Gatehouse variants: configuration, the Express app with GET /me, the
// node:http server, and per-run names for shared services (derived from $BENCH_RUN_ID, dropped on exit).
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GatehouseConfigInput } from '../../src/config.js';
import { createGatehouse, type GatehouseOptions } from '../../src/http/express.js';
import { createGatehouseNode } from '../../src/http/node.js';
import { expressApp } from './_express.js';
import { serve } from './_serve.js';

/**
 * Logins are setup, not what is measured, so most variants hash cheaply. `production: true` keeps the
 * OWASP argon2id defaults (the login-storm variant). Rate limits are off: setup and storms log in
 * far more often than a real client would from one IP.
 */
export function benchConfig(extra: GatehouseConfigInput = {}, opts: { production?: boolean } = {}): GatehouseConfigInput {
  return {
    publicUrl: 'http://127.0.0.1',
    // As deployed with a shared store (it seals keys and signs DBSC registration challenges).
    secret: 'a bench secret of at least thirty-two characters',
    logLevel: 'silent',
    rateLimits: { enabled: false },
    ...(opts.production ? {} : { passwordHashing: { memoryCost: 1024, timeCost: 1, parallelism: 1, unsafeAllowWeak: true } }),
    ...extra,
  };
}

/** This server start's run id (`$BENCH_RUN_ID`; a local one when started by hand). */
export function runId(): string {
  return process.env.BENCH_RUN_ID ?? `local-${process.pid}`;
}

/** A temporary directory removed when the server stops. */
export function tempDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'gh-bench-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Express 5: `/auth` routes plus `GET /me` behind `requireAuth()` (which authenticates), answering `{user}`.
 * With `BENCH_GATEHOUSE_METRICS=1` the same server has Prometheus metrics on, as `gatehouse serve`
 * runs them: every request timed by route template (the first middleware), cache hits counted.
 * With `BENCH_GATEHOUSE_TRACING=0` tracing is off altogether (the default calls the OpenTelemetry API,
 * which records nothing without an SDK).
 */
export async function serveExpress(options: GatehouseOptions, cleanup: () => Promise<void> = async () => {}): Promise<void> {
  const gh = await createGatehouse({
    ...options,
    ...(process.env.BENCH_GATEHOUSE_METRICS === '1' ? { metrics: true } : {}),
    // Spans are on by default (a no-op without an SDK); this turns even the API calls off.
    ...(process.env.BENCH_GATEHOUSE_TRACING === '0' ? { tracing: false } : {}),
  });
  const { app, server } = expressApp();
  if (gh.metrics) app.use(gh.metrics.requestTimer);
  app.use('/auth', gh.router);
  app.get('/me', gh.requireAuth(), (req, res) => {
    res.json({ user: req.auth!.user.id });
  });
  app.use(gh.errorHandler);
  serve(server, async () => {
    await gh.close();
    await cleanup();
  });
}

/** Bare node:http through `createGatehouseNode`: `/auth/*` by `handle`, `GET /me` by `authenticate`. */
export async function serveNode(options: GatehouseOptions): Promise<Server> {
  const gh = await createGatehouseNode(options);
  const server = createServer((req, res) => {
    if (gh.handle(req, res)) return;
    if (req.method === 'GET' && req.url === '/me') {
      gh.authenticate(req, res).then(
        (auth) => {
          if (!auth) return gh.reject(req, res);
          const body = JSON.stringify({ user: auth.user.id });
          res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
          res.end(body);
        },
        () => {
          res.writeHead(500).end();
        },
      );
      return;
    }
    res.writeHead(404).end();
  });
  serve(server, () => gh.close());
  return server;
}
