/** Folds the raw samples of every round into one summary per variant. */
import type { LoadSample, Metrics } from './types.js';
import { max, median, min, round } from './stats.js';

export interface RoundRecord {
  round: number;
  variant: string;
  /** Position of the variant within its round (the order rotates every round). */
  position: number;
  /** % of all CPUs busy with other work just before this measurement (undefined off Linux). */
  cpuBusyBefore?: number;
  sample?: LoadSample;
  storm?: LoadSample;
  metrics?: Metrics;
  error?: string;
}

export interface VariantSummary {
  name: string;
  description: string;
  rounds: number;
  rps: { min: number; median: number; max: number };
  p99_ms: { min: number; median: number; max: number };
  p50_ms: { median: number };
  /** Server CPU per request (µs, median over rounds), when it could be read. */
  cpu_us_per_request?: { median: number; min: number; max: number };
  /** Present when the variant has a login storm: the GET's p99 while logins run. */
  storm?: { p99_ms: { median: number }; idle_p99_ms: { median: number }; logins_per_s: { median: number }; login_p99_ms: { median: number } };
  metrics?: Metrics;
  errors: string[];
}

export function summarize(name: string, description: string, records: RoundRecord[]): VariantSummary {
  const mine = records.filter((r) => r.variant === name);
  const ok = mine.flatMap((r) => (r.sample === undefined ? [] : [r.sample]));
  const rps = ok.map((s) => s.rps);
  const p99 = ok.map((s) => s.latency.p99);
  const summary: VariantSummary = {
    name,
    description,
    rounds: ok.length,
    rps: { min: round(min(rps)), median: round(median(rps)), max: round(max(rps)) },
    p99_ms: { min: round(min(p99), 2), median: round(median(p99), 2), max: round(max(p99), 2) },
    p50_ms: { median: round(median(ok.map((s) => s.latency.p50)), 2) },
    errors: mine.flatMap((r) => (r.error === undefined ? [] : [`round ${r.round}: ${r.error}`])),
  };
  const cpu = ok.flatMap((s) => (s.serverCpuUsPerRequest === undefined ? [] : [s.serverCpuUsPerRequest]));
  if (cpu.length > 0) summary.cpu_us_per_request = { median: round(median(cpu), 1), min: round(min(cpu), 1), max: round(max(cpu), 1) };
  const storms = mine.flatMap((r) => (r.storm?.storm === undefined || r.sample === undefined ? [] : [{ idle: r.sample, storm: r.storm }]));
  if (storms.length > 0) {
    summary.storm = {
      p99_ms: { median: round(median(storms.map((s) => s.storm.latency.p99)), 2) },
      idle_p99_ms: { median: round(median(storms.map((s) => s.idle.latency.p99)), 2) },
      logins_per_s: { median: round(median(storms.map((s) => s.storm.storm!.achievedPerSec)), 1) },
      login_p99_ms: { median: round(median(storms.map((s) => s.storm.storm!.latencyP99Ms)), 2) },
    };
  }
  const metricRecords = mine.flatMap((r) => (r.metrics === undefined ? [] : [r.metrics]));
  if (metricRecords.length > 0) {
    const keys = new Set(metricRecords.flatMap((m) => Object.keys(m)));
    summary.metrics = Object.fromEntries(
      [...keys].map((k) => [k, round(median(metricRecords.flatMap((m) => (m[k] === undefined ? [] : [m[k]!]))), 2)]),
    );
  }
  return summary;
}
