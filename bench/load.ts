/**
 * The load generator, run by bench/run.ts as its own process (pinned to core 0 when taskset
 * exists). Reads a LoadSpec as JSON on stdin (credentials never go on a command line), warms
 * up, measures with autocannon, optionally runs a login storm beside it, and prints one JSON
 * LoadSample line on stdout.
 */
import autocannon from 'autocannon';
import { text } from 'node:stream/consumers';
import type { DpopLoad, LoadSample } from './lib/types.js';
import { makeProofs } from './lib/dpop.js';
import { runStorm } from './lib/storm.js';
import { findVariant } from './variants/index.js';

export interface LoadSpec {
  url: string;
  headers: Record<string, string>;
  connections: number;
  durationS: number;
  warmupS: number;
  /** When set, a login storm of this variant runs during the measurement. */
  storm?: { variant: string; ratePerSec: number; baseUrl: string; runId: string };
  /** A DPoP-bound token: every request carries a fresh proof (made before each phase). */
  dpop?: DpopLoad;
}

const spec = JSON.parse(await text(process.stdin)) as LoadSpec;
const base = { url: spec.url, headers: spec.headers, connections: spec.connections, timeout: 10 };

/** With DPoP, the request of each phase takes the next unused proof; `n` of them are made first. */
async function phase(n: number): Promise<{ requests?: Array<{ setupRequest(req: { headers: Record<string, string> }): { headers: Record<string, string> } }> }> {
  if (!spec.dpop) return {};
  const proofs = await makeProofs(spec.dpop, n);
  let i = 0;
  return {
    requests: [
      {
        setupRequest(req) {
          // Out of proofs: a reused one is refused (401) and the run is discarded, never silently kept.
          req.headers = { ...req.headers, dpop: proofs[Math.min(i++, proofs.length - 1)]! };
          return req;
        },
      },
    ],
  };
}

/**
 * Proofs for a phase: twice the warm-up's rate (the warm-up runs cold, so it under-estimates), at
 * least 4,000/s, times the phase length. The warm-up itself may run out (it is not recorded).
 */
let ratePerSec = 4000;
let warmupRequests = 0;
if (spec.warmupS > 0) {
  const w = await autocannon({ ...base, duration: spec.warmupS, ...(await phase(Math.ceil(ratePerSec * spec.warmupS))) });
  ratePerSec = Math.max(ratePerSec, (2 * w.requests.total) / w.duration);
  warmupRequests = w.requests.total;
}

let stormDone: Promise<LoadSample['storm']> | undefined;
if (spec.storm !== undefined) {
  const variant = findVariant(spec.storm.variant);
  if (variant?.storm === undefined) throw new Error(`variant ${spec.storm.variant} has no login storm`);
  const { login } = variant.storm;
  const ctx = { baseUrl: spec.storm.baseUrl, name: variant.name, runId: spec.storm.runId };
  stormDone = runStorm({ ratePerSec: spec.storm.ratePerSec, durationMs: spec.durationS * 1000, login: (i) => login(ctx, i) });
}

const r = await autocannon({ ...base, duration: spec.durationS, ...(await phase(Math.ceil(ratePerSec * spec.durationS))) });
const sample: LoadSample = {
  rps: r.requests.total / r.duration,
  requests: r.requests.total,
  warmupRequests,
  durationS: r.duration,
  latency: { p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, max: r.latency.max, mean: r.latency.mean },
  non2xx: r.non2xx,
  errors: r.errors,
  timeouts: r.timeouts,
};
if (stormDone !== undefined) sample.storm = await stormDone;
process.stdout.write(JSON.stringify(sample) + '\n');
