/**
 * The login-storm loop: starts `ratePerSec` logins per second on a fixed schedule for
 * `durationMs`, whatever the previous ones are doing (an open loop, so a slow server cannot slow
 * the storm down and hide its own stall). In-flight logins are capped so a stalled server cannot
 * make the loop grow without bound; every login is awaited before the result is returned.
 */
import type { StormStats } from './types.js';

export interface StormOptions {
  ratePerSec: number;
  durationMs: number;
  login(seq: number): Promise<void>;
  /** Cap on concurrent logins (default 4× the rate). */
  maxInFlight?: number;
  /** Clock and timer, injectable for tests. */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export async function runStorm(opts: StormOptions): Promise<StormStats> {
  const now = opts.now ?? (() => performance.now());
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const maxInFlight = opts.maxInFlight ?? Math.max(4, opts.ratePerSec * 4);
  const intervalMs = 1000 / opts.ratePerSec;
  const total = Math.floor((opts.durationMs / 1000) * opts.ratePerSec);
  const latencies: number[] = [];
  const pending = new Set<Promise<void>>();
  let attempted = 0;
  let failed = 0;
  let refused = 0;
  let skipped = 0;
  const start = now();

  for (let i = 0; i < total; i++) {
    const due = start + i * intervalMs;
    const wait = due - now();
    if (wait > 0) await sleep(wait);
    if (pending.size >= maxInFlight) {
      skipped++; // the server is not keeping up: counted, not queued
      continue;
    }
    attempted++;
    const t0 = now();
    const p: Promise<void> = opts.login(i).then(
      () => void latencies.push(now() - t0),
      // 503: refused at once by admission control (counted apart from failures).
      (e: unknown) => void ((e as { status?: number })?.status === 503 ? refused++ : failed++),
    );
    const tracked = p.finally(() => pending.delete(tracked));
    pending.add(tracked);
  }
  await Promise.all(pending);
  latencies.sort((a, b) => a - b);
  const pct = (q: number) => (latencies.length === 0 ? 0 : latencies[Math.min(latencies.length - 1, Math.max(0, Math.ceil(latencies.length * q) - 1))]!);
  const p99 = pct(0.99);
  return {
    ratePerSec: opts.ratePerSec,
    attempted,
    succeeded: latencies.length,
    failed,
    refused,
    skipped,
    achievedPerSec: latencies.length / (opts.durationMs / 1000),
    latencyP99Ms: Math.round(p99 * 100) / 100,
    latencyP50Ms: Math.round(pct(0.5) * 100) / 100,
  };
}
