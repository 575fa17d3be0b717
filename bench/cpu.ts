/**
 * CPU time per request of selected variants, read from each server process's own accounting
 * (/proc/<pid>/stat, user + system). On a shared machine req/s moves with whatever else runs; the CPU
 * a server spends per request moves much less, so this is the figure to compare two variants that
 * differ by a small per-request cost (e.g. metrics on and off).
 *
 *   BENCH_ONLY='^gatehouse-(session-sqlite|bearer-eddsa)(-metrics)?$' node --import tsx bench/cpu.ts
 *
 * Environment: BENCH_ONLY (regex on variant names, required), BENCH_ROUNDS (default 5, interleaved
 * like bench/run.ts), BENCH_REQUESTS (per round, default 20000, after 2000 not counted),
 * BENCH_CONNECTIONS (default 10). Prints µs of CPU per request (median over rounds) and, for each
 * `<name>-metrics` or `<name>-untraced` variant, its ratio to `<name>`. Linux only (reads /proc).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { variants } from './variants/index.js';
import { startServer } from './lib/procs.js';

const only = process.env.BENCH_ONLY;
if (!only) throw new Error('set BENCH_ONLY to a regex selecting the variants to compare');
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const requests = Number(process.env.BENCH_REQUESTS ?? 20_000);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 10);
const selected = variants.filter((v) => new RegExp(only).test(v.name));
if (selected.length === 0) throw new Error(`BENCH_ONLY=${only} selects no variant`);

const TICK_US = 1e6 / 100; // USER_HZ is 100 on Linux

/** The process's user + system CPU time, in µs (the tick resolution is 10 ms). */
function cpuUs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * TICK_US;
}

async function fire(url: string, headers: Record<string, string>, amount: number): Promise<number> {
  const r = await autocannon({ url, headers, connections, amount, timeout: 30 });
  return r.non2xx + r.errors;
}

const samples = new Map<string, number[]>(selected.map((v) => [v.name, []]));
for (let round = 0; round < rounds; round++) {
  for (let k = 0; k < selected.length; k++) {
    const v = selected[(k + round) % selected.length]!;
    const server = await startServer(join('bench/variants', v.file), { PORT: '0', BENCH_RUN_ID: `cpu-${v.name}-${process.pid}-r${round}`, ...v.env }, false);
    try {
      const baseUrl = `http://127.0.0.1:${server.port}`;
      const cred = await v.setup({ baseUrl, name: v.name, runId: `cpu-${process.pid}` });
      const url = baseUrl + (v.path ?? '/me');
      if ((await fire(url, cred.headers, 2000)) > 0) throw new Error(`${v.name}: warm-up saw non-2xx answers`);
      const before = cpuUs(server.pid);
      const bad = await fire(url, cred.headers, requests);
      const perRequest = (cpuUs(server.pid) - before) / requests;
      if (bad > 0) throw new Error(`${v.name}: ${bad} non-2xx answers`);
      samples.get(v.name)!.push(perRequest);
      process.stderr.write(`round ${round + 1}/${rounds}  ${v.name.padEnd(36)} ${perRequest.toFixed(1)} µs CPU/request\n`);
    } finally {
      await server.stop();
    }
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const result: Record<string, unknown> = {};
for (const [name, xs] of samples) result[name] = { cpu_us_per_request: { median: +median(xs).toFixed(2), samples: xs.map((x) => +x.toFixed(2)) } };
for (const name of samples.keys()) {
  const base = name.replace(/-(metrics|untraced)$/, '');
  if (base !== name && samples.has(base)) result[`${name} / ${base}`] = { cpu_ratio: +(median(samples.get(name)!) / median(samples.get(base)!)).toFixed(3) };
}
console.log(JSON.stringify({ requests, rounds, connections, result }, null, 2));
