/**
 * The scale bench's server: Gatehouse on bare node:http (`createGatehouseNode`), its `/auth/*`
 * routes as shipped (GET /auth/me is what is measured), on a store the harness has filled. Two
 * bench-only routes, reachable on 127.0.0.1 only: GET /__scale/stats (start-up time and memory, CPU
 * time used and requests served, cache sizes) and POST /__scale/sweep (one expired-row sweep now, timed). Settings come from SCALE_* variables.
 *
 * Start-up is timed from before `createGatehouseNode` (open the store, run migrations, load keys,
 * replay the change feed into the revocation set) to listening; the whole process (Node, tsx
 * compiling the TypeScript) is reported beside it.
 */
import { createServer } from 'node:http';
import { performance } from 'node:perf_hooks';
import { createGatehouseNode } from '../../src/http/node.js';
import { serve } from '../variants/_serve.js';

const env = (name: string): string | undefined => process.env[name] || undefined;
const t0 = performance.now();
const gh = await createGatehouseNode({
  config: {
    publicUrl: 'http://127.0.0.1',
    logLevel: 'silent',
    rateLimits: { enabled: false },
    databaseUrl: env('SCALE_DATABASE_URL') ?? 'memory:',
    ...(env('SCALE_DATA_DIR') ? { dataDir: env('SCALE_DATA_DIR')! } : {}),
    ...(env('SCALE_SCHEMA') ? { databaseSchema: env('SCALE_SCHEMA')! } : {}),
    // Keys in a shared database are stored encrypted under this (a fixed value: bench data only).
    ...(env('SCALE_SECRET') ? { secret: env('SCALE_SECRET')! } : {}),
    ...(env('SCALE_REDIS_URL') ? { redisUrl: env('SCALE_REDIS_URL')!, redisPrefix: env('SCALE_REDIS_PREFIX') ?? 'gh:' } : {}),
    cacheMaxEntries: Number(env('SCALE_CACHE_ENTRIES') ?? 100_000),
    // The fixture's sessions were last seen when filled: a long idle lifetime and renewal interval keep
    // the measured requests reads (a renewal write happens at most once per session per interval anyway).
    session: { idleTtl: '2d', absoluteTtl: '7d', renewInterval: '1d' },
    // The harness sweeps on demand (POST /__scale/sweep), not on a timer.
    cleanupInterval: '1d',
  },
});
const gc = (globalThis as { gc?: () => void }).gc;

let startup: Record<string, number> | null = null;
let served = 0;
const server = createServer((req, res) => {
  if (gh.handle(req, res)) {
    served += 1;
    return;
  }
  const json = (status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };
  if (req.method === 'GET' && req.url === '/__scale/stats') {
    const m = process.memoryUsage();
    const cpu = process.cpuUsage();
    // CPU time this process has used and the Gatehouse requests it has served: their ratio over a
    // measurement is the server's cost per request, which other work on a shared machine does not inflate.
    return json(200, { startup, now: { heapUsed: m.heapUsed, rss: m.rss }, cpuUs: cpu.user + cpu.system, served, diagnostics: gh.core.diagnostics() });
  }
  if (req.method === 'POST' && req.url === '/__scale/sweep') {
    const t = performance.now();
    gh.core.admin.sweep().then(
      (removed) => json(200, { ms: performance.now() - t, removed }),
      (e: unknown) => json(500, { error: String(e) }),
    );
    return;
  }
  res.writeHead(404).end();
});

server.once('listening', () => {
  const startMs = performance.now() - t0;
  gc?.();
  const m = process.memoryUsage();
  startup = { startMs, processMs: performance.now(), heapUsed: m.heapUsed, rss: m.rss };
});
serve(server, () => gh.close());
