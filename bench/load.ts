/**
 * The load generator, run by bench/run.ts as its own process (pinned to core 0 when taskset
 * exists). Reads a LoadSpec as JSON on stdin (credentials never go on a command line), warms
 * up, measures with autocannon, optionally runs a login storm beside it, and prints one JSON
 * LoadSample line on stdout.
 */
import autocannon from 'autocannon';
import { text } from 'node:stream/consumers';
import type { LoadSample } from './lib/types.js';
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
}

const spec = JSON.parse(await text(process.stdin)) as LoadSpec;
const base = { url: spec.url, headers: spec.headers, connections: spec.connections, timeout: 10 };

if (spec.warmupS > 0) await autocannon({ ...base, duration: spec.warmupS });

let stormDone: Promise<LoadSample['storm']> | undefined;
if (spec.storm !== undefined) {
  const variant = findVariant(spec.storm.variant);
  if (variant?.storm === undefined) throw new Error(`variant ${spec.storm.variant} has no login storm`);
  const { login } = variant.storm;
  const ctx = { baseUrl: spec.storm.baseUrl, name: variant.name, runId: spec.storm.runId };
  stormDone = runStorm({ ratePerSec: spec.storm.ratePerSec, durationMs: spec.durationS * 1000, login: (i) => login(ctx, i) });
}

const r = await autocannon({ ...base, duration: spec.durationS });
const sample: LoadSample = {
  rps: r.requests.total / r.duration,
  requests: r.requests.total,
  durationS: r.duration,
  latency: { p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, max: r.latency.max, mean: r.latency.mean },
  non2xx: r.non2xx,
  errors: r.errors,
  timeouts: r.timeouts,
};
if (stormDone !== undefined) sample.storm = await stormDone;
process.stdout.write(JSON.stringify(sample) + '\n');
