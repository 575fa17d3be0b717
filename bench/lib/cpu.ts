/**
 * CPU time used by a server and every process it started (the shipped server runs under a small
 * starter script, and hashes in a helper process), read from /proc. On a machine shared with other
 * work, req/s moves with whatever else runs on the core, but the CPU time a server spends per
 * request barely does: it is the steadier figure of what a request costs. Linux only (undefined elsewhere).
 */
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_S = 100; // USER_HZ on Linux

function stat(pid: number): { ppid: number; ticks: number } | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    // Fields 4 (ppid), 14 (utime) and 15 (stime) of proc(5), counted from 1.
    return { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) };
  } catch {
    return null;
  }
}

/** Seconds of CPU used so far by `pid` and its live descendants, or undefined off Linux. */
export function treeCpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined || process.platform !== 'linux') return undefined;
  const all = new Map<number, { ppid: number; ticks: number }>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const s = stat(Number(d));
    if (s) all.set(Number(d), s);
  }
  if (!all.has(pid)) return undefined;
  let ticks = 0;
  const stack = [pid];
  while (stack.length > 0) {
    const p = stack.pop()!;
    ticks += all.get(p)?.ticks ?? 0;
    for (const [child, s] of all) if (s.ppid === p) stack.push(child);
  }
  return ticks / TICKS_PER_S;
}
