/**
 * Performance goals, computed from ratios within one run (never against figures from another
 * machine or another day). A goal selects variants by name and yields one row per variant
 * present, so a goal appears in the results as soon as a variant it selects is registered,
 * and a run filtered with BENCH_ONLY reports only what it measured.
 */
import type { VariantSummary } from './lib/summary.js';
import { round } from './lib/stats.js';

/** One row of `latest.json#goals`. */
export interface GoalResult {
  name: string;
  target: number;
  value: number;
  met: boolean;
}

export interface GoalSpec {
  /** Rows for the variants this goal selects; [] when none of them (or its baseline) ran. */
  evaluate(byName: ReadonlyMap<string, VariantSummary>): GoalResult[];
}

function selected(byName: ReadonlyMap<string, VariantSummary>, select: RegExp): VariantSummary[] {
  return [...byName.values()].filter((v) => select.test(v.name) && v.rounds > 0);
}

/** Median req/s of each selected variant ≥ `min` × the baseline's median req/s. */
export function rpsRatio(select: RegExp, baseline: string, minRatio: number): GoalSpec {
  return {
    evaluate(byName) {
      const base = byName.get(baseline);
      if (base === undefined || base.rounds === 0) return [];
      return selected(byName, select).map((v) => {
        const value = round(v.rps.median / base.rps.median, 3);
        return { name: `${v.name}: req/s ≥ ${minRatio.toFixed(2)}× ${baseline}`, target: minRatio, value, met: value >= minRatio };
      });
    },
  };
}

/** The GET's median p99 during a login storm ≤ `maxRatio` × its idle median p99 (same rounds). */
export function stormP99Ratio(select: RegExp, maxRatio: number): GoalSpec {
  return {
    evaluate(byName) {
      return selected(byName, select).flatMap((v) => {
        if (v.storm === undefined) return [];
        const value = round(v.storm.p99_ms.median / v.storm.idle_p99_ms.median, 3);
        return [{ name: `${v.name}: p99 during a login storm ≤ ${maxRatio}× idle p99`, target: maxRatio, value, met: value <= maxRatio }];
      });
    },
  };
}

/** A figure the variant reports through `metrics` (e.g. redisBytesPerSession) ≤ `maxValue`. */
export function metricAtMost(select: RegExp, metric: string, maxValue: number, unit: string): GoalSpec {
  return {
    evaluate(byName) {
      return selected(byName, select).flatMap((v) => {
        const value = v.metrics?.[metric];
        if (value === undefined) return [];
        return [{ name: `${v.name}: ${metric} ≤ ${maxValue} ${unit}`, target: maxValue, value, met: value <= maxValue }];
      });
    },
  };
}

/** The goals of the Performance issue. */
export const GOALS: GoalSpec[] = [
  // Cookie sessions on every store, through Express, in the steady state.
  rpsRatio(/^gatehouse-session-(?!.*node-http)/, 'bare-express', 0.9),
  // EdDSA bearer tokens through Express.
  rpsRatio(/^gatehouse-bearer-eddsa$/, 'bare-express', 0.9),
  // Metrics on the hot path: at most 3 % slower than the same variant with metrics off.
  rpsRatio(/^gatehouse-session-sqlite-metrics$/, 'gatehouse-session-sqlite', 0.97),
  rpsRatio(/^gatehouse-bearer-eddsa-metrics$/, 'gatehouse-bearer-eddsa', 0.97),
  // The framework-free path: authentication within about 8 µs per request.
  rpsRatio(/^gatehouse-node-http-/, 'bare-http', 0.7),
  // Compact Redis encoding, device metadata and per-user index included.
  metricAtMost(/^gatehouse-.*redis/, 'redisBytesPerSession', 300, 'B'),
  // 20 argon2id logins/s must not stall the event loop (library path, hashing on libuv's pool).
  stormP99Ratio(/^gatehouse-(?!serve-)/, 2),
  // `gatehouse serve` as shipped (security headers, request log to a file) on its own GET /auth/me.
  rpsRatio(/^gatehouse-serve-cookie-(sqlite|redis)$/, 'bare-express', 0.9),
  rpsRatio(/^gatehouse-serve-bearer-(sqlite|redis)$/, 'bare-express', 0.95),
  // Request logging costs at most 3 %: the same server with request lines off (log level warn).
  rpsRatio(/^gatehouse-serve-cookie-sqlite$/, 'gatehouse-serve-cookie-sqlite-nolog', 0.97),
  // The shipped server hashes in a low-priority pool with admission control: logins cannot starve traffic.
  stormP99Ratio(/^gatehouse-serve-/, 1.5),
];

export function evaluateGoals(summaries: readonly VariantSummary[], goals: readonly GoalSpec[] = GOALS): GoalResult[] {
  const byName = new Map(summaries.map((s) => [s.name, s]));
  return goals.flatMap((g) => g.evaluate(byName));
}
