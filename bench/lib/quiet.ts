/**
 * The machine is shared: before each measurement, look at how busy the CPUs are (from
 * /proc/stat, while none of our own children run) and wait a little, bounded, for a quieter
 * moment. The figure is recorded with every sample so noisy rounds can be recognised.
 */
import { readFileSync } from 'node:fs';

function snapshot(): { busy: number; total: number } | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    const idle = (f[3] ?? 0) + (f[4] ?? 0);
    const total = f.reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  } catch {
    return undefined; // not Linux: no figure
  }
}

/** Percentage of all CPUs busy over `ms`, or undefined where /proc/stat does not exist. */
export async function cpuBusy(ms = 500): Promise<number | undefined> {
  const a = snapshot();
  await new Promise((r) => setTimeout(r, ms));
  const b = snapshot();
  if (a === undefined || b === undefined || b.total === a.total) return undefined;
  return Math.round(((b.busy - a.busy) / (b.total - a.total)) * 100);
}

/** Samples until busy ≤ `threshold` % or `maxWaitMs` has passed; returns the last figure. */
export async function waitForQuiet(threshold = 25, maxWaitMs = 10_000): Promise<number | undefined> {
  const deadline = Date.now() + maxWaitMs;
  let busy = await cpuBusy();
  while (busy !== undefined && busy > threshold && Date.now() < deadline) busy = await cpuBusy(1000);
  return busy;
}
