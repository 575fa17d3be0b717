/**
 * Logins against authenticated traffic, on `gatehouse serve` as shipped (bench/variants/gatehouse-serve.ts,
 * production argon2id, server pinned to core 1): for each login rate, the GET /auth/me p99 under a storm
 * of password logins against its idle p99 (same server start), the logins' p50/p99 and the share refused
 * by admission control (503 `password_hashing_busy`). Each rate runs with the hashing pool as shipped
 * (`GATEHOUSE_PASSWORD_HASH_WORKERS` default) and, for contrast, with hashing in the server process
 * (`=0`, libuv's thread pool at normal priority). Rates and configurations interleave over rounds.
 *
 *   node --import tsx bench/storm.ts            # rates 20,40,80; 2 rounds; 1 s warm-up + 5 s per phase
 *   BENCH_STORM_RATES=20,80 BENCH_ROUNDS=3 BENCH_DURATION=8 node --import tsx bench/storm.ts
 *
 * Writes bench/results/latest-storm.json and latest-storm.md.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findVariant } from './variants/index.js';
import { ensureBuilt, killAll, pinningAvailable, REPO_ROOT, runLoad, startServer } from './lib/procs.js';
import { median, round } from './lib/stats.js';
import type { LoadSample } from './lib/types.js';
import { waitForQuiet } from './lib/quiet.js';

const num = (name: string, fallback: number) => (process.env[name] ? Number(process.env[name]) : fallback);
const rates = (process.env.BENCH_STORM_RATES ?? '20,40,80').split(',').map(Number);
const rounds = num('BENCH_ROUNDS', 2);
const durationS = num('BENCH_DURATION', 5);
const warmupS = num('BENCH_WARMUP', 1);
const connections = num('BENCH_CONNECTIONS', 50);
const pin = pinningAvailable();
const variant = findVariant('gatehouse-serve-cookie-sqlite')!;
const configs = [
  { name: 'pool', label: 'hashing pool (as shipped: 2 threads at nice 19, max wait 1 s)', env: {} as Record<string, string> },
  { name: 'in-process', label: 'in-process hashing (GATEHOUSE_PASSWORD_HASH_WORKERS=0)', env: { GATEHOUSE_PASSWORD_HASH_WORKERS: '0' } },
];
process.on('SIGINT', () => {
  killAll();
  process.exit(130);
});
const log = (s: string) => void process.stderr.write(s + '\n');
ensureBuilt();

interface Sample {
  config: string;
  rate: number;
  round: number;
  busyBefore?: number;
  idle: LoadSample;
  storm: LoadSample;
}
const samples: Sample[] = [];
for (let r = 1; r <= rounds; r++) {
  const cells = rates.flatMap((rate) => configs.map((c) => ({ rate, c })));
  const order = r % 2 === 0 ? cells.reverse() : cells;
  for (const { rate, c } of order) {
    const busy = await waitForQuiet();
    const runId = `storm-${process.pid}-${c.name}-${rate}-r${r}`;
    const server = await startServer(join('bench/variants', variant.file), { PORT: '0', BENCH_RUN_ID: runId, ...variant.env, ...c.env }, pin);
    try {
      const baseUrl = `http://127.0.0.1:${server.port}`;
      const ctx = { baseUrl, name: variant.name, runId };
      const cred = await variant.setup(ctx);
      const spec = { url: baseUrl + variant.path, headers: cred.headers, connections, durationS, warmupS };
      const timeout = (warmupS + durationS) * 1000 + 60_000;
      const idle = await runLoad<LoadSample>(spec, pin, timeout);
      const storm = await runLoad<LoadSample>({ ...spec, warmupS: 0, storm: { variant: variant.name, ratePerSec: rate, baseUrl, runId } }, pin, timeout);
      if (idle.non2xx + idle.errors + storm.non2xx + storm.errors > 0) throw new Error(`GET /auth/me: non-2xx or errors (${idle.non2xx}/${idle.errors}, ${storm.non2xx}/${storm.errors})`);
      const s = storm.storm!;
      log(`round ${r} ${c.name.padEnd(10)} ${String(rate).padStart(3)}/s  /me p99 idle ${idle.latency.p99} ms → storm ${storm.latency.p99} ms; logins ok ${s.succeeded} refused ${s.refused} failed ${s.failed} skipped ${s.skipped}, p50 ${s.latencyP50Ms} p99 ${s.latencyP99Ms} ms (other load before: ${busy ?? '?'}%)`);
      samples.push({ config: c.name, rate, round: r, ...(busy !== undefined ? { busyBefore: busy } : {}), idle, storm });
    } finally {
      await server.stop();
    }
  }
}

const rows = configs.flatMap((c) =>
  rates.map((rate) => {
    const mine = samples.filter((s) => s.config === c.name && s.rate === rate);
    const st = mine.map((s) => s.storm.storm!);
    const offered = st.map((s) => s.attempted + s.skipped);
    return {
      config: c.name,
      rate,
      rounds: mine.length,
      idle_p99_ms: median(mine.map((s) => s.idle.latency.p99)),
      storm_p99_ms: median(mine.map((s) => s.storm.latency.p99)),
      p99_ratio: round(median(mine.map((s) => s.storm.latency.p99 / s.idle.latency.p99)), 2),
      idle_rps: round(median(mine.map((s) => s.idle.rps))),
      storm_rps: round(median(mine.map((s) => s.storm.rps))),
      login_p50_ms: round(median(st.map((s) => s.latencyP50Ms))),
      login_p99_ms: round(median(st.map((s) => s.latencyP99Ms))),
      logins_ok_per_s: round(median(st.map((s) => s.achievedPerSec)), 1),
      refused_share: round(median(st.map((s, i) => s.refused / offered[i]!)), 3),
      failed_or_skipped_share: round(median(st.map((s, i) => (s.failed + s.skipped) / offered[i]!)), 3),
    };
  }),
);
const busy = samples.flatMap((s) => (s.busyBefore === undefined ? [] : [s.busyBefore]));
const md = [
  `# Logins against traffic (${new Date().toISOString().slice(0, 10)})`,
  '',
  `\`gatehouse serve\` as shipped (cookie session, SQLite, production argon2id m=19 MiB t=2 p=1), ${pin ? 'server pinned to core 1, load on core 0' : 'not pinned'}; ` +
    `autocannon ${connections} connections on GET /auth/me, ${warmupS} s warm-up + ${durationS} s idle, then ${durationS} s with the login storm (an open loop of POST /auth/login at the rate); ` +
    `${rounds} rounds, medians. CPU busy with other work before each measurement: median ${busy.length ? median(busy) : '?'} %, max ${busy.length ? Math.max(...busy) : '?'} %.`,
  '',
  '| hashing | logins/s offered | /auth/me p99 idle ms | p99 during storm ms | × idle | /auth/me req/s idle → storm | login p50 ms | login p99 ms | logins/s served | refused (503) | failed or not sent |',
  '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...rows.map((x) => `| ${x.config} | ${x.rate} | ${x.idle_p99_ms} | ${x.storm_p99_ms} | ${x.p99_ratio.toFixed(2)} | ${x.idle_rps.toLocaleString('en-US')} → ${x.storm_rps.toLocaleString('en-US')} | ${x.login_p50_ms} | ${x.login_p99_ms} | ${x.logins_ok_per_s} | ${(100 * x.refused_share).toFixed(1)} % | ${(100 * x.failed_or_skipped_share).toFixed(1)} % |`),
  '',
  ...configs.map((c) => `- ${c.name}: ${c.label}`),
  '',
].join('\n');
const dir = join(REPO_ROOT, 'bench/results');
writeFileSync(join(dir, 'latest-storm.json'), JSON.stringify({ date: new Date().toISOString(), pinned: pin, rounds, durationS, warmupS, connections, rows, samples }, null, 2) + '\n');
writeFileSync(join(dir, 'latest-storm.md'), md);
process.stdout.write(md);
