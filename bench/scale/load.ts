/**
 * The scale bench's load generator (its own process, like bench/load.ts): GET /auth/me with autocannon,
 * each request carrying the cookie of the next session of a list spread over [0, n) of the fixture's
 * population. The cookies are rebuilt here from the run's seed (fixture.ts). Reads a ScaleLoadSpec
 * as JSON on stdin; prints one JSON LoadSample line, with the server's CPU time per request over the
 * measurement (from its /__scale/stats).
 */
import autocannon, { type AutocannonResult } from 'autocannon';
import { text } from 'node:stream/consumers';
import type { LoadSample } from '../lib/types.js';
import { sessionToken, spread } from './fixture.js';

export interface ScaleLoadSpec {
  url: string;
  cookieName: string;
  connections: number;
  durationS: number;
  warmupS: number;
  seed: string;
  /** Requests go to `count` distinct sessions spread over [0, n), in turn. */
  n: number;
  count: number;
  salt: number;
  /** Send every cookie once before the warm-up. */
  prime: boolean;
}

const spec = JSON.parse(await text(process.stdin)) as ScaleLoadSpec;
const pop = { seed: spec.seed, at: 0 };
const cookies = spread(spec.n, spec.count, spec.salt).map((i) => `${spec.cookieName}=${sessionToken(pop, 'live', i).token}`);
let next = 0;
const options = {
  url: spec.url,
  connections: spec.connections,
  timeout: 10,
  requests: [
    {
      setupRequest(req: { headers?: Record<string, string> }) {
        req.headers = { ...req.headers, cookie: cookies[next]! };
        next = next + 1 === cookies.length ? 0 : next + 1;
        return req;
      },
    },
  ],
};
const run = autocannon as unknown as (o: typeof options & ({ duration: number } | { amount: number })) => Promise<AutocannonResult>;
// With `prime`, a first pass sends every cookie of the list once (so on the hit path the whole working
// set is cached before anything is measured); then the timed warm-up.
if (spec.prime) await run({ ...options, amount: cookies.length });
if (spec.warmupS > 0) await run({ ...options, duration: spec.warmupS });
const stats = async () => (await (await fetch(new URL('/__scale/stats', spec.url), { signal: AbortSignal.timeout(10_000) })).json()) as { cpuUs: number; served: number };
const before = await stats();
const r = await run({ ...options, duration: spec.durationS });
const after = await stats();
const sample: LoadSample & { serverCpuUsPerRequest: number } = {
  rps: r.requests.total / r.duration,
  requests: r.requests.total,
  durationS: r.duration,
  latency: { p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, max: r.latency.max, mean: r.latency.mean },
  non2xx: r.non2xx,
  errors: r.errors,
  timeouts: r.timeouts,
  // The stats requests themselves are two of `served`: negligible against thousands.
  serverCpuUsPerRequest: (after.cpuUs - before.cpuUs) / Math.max(1, after.served - before.served),
};
process.stdout.write(JSON.stringify(sample) + '\n');
