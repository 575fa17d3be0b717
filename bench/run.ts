/**
 * `npm run bench`: measures every registered variant, interleaved over several rounds, and
 * writes bench/results/<date>.json, latest.json, latest.md and latest.svg.
 *
 * Environment: BENCH_DURATION (s, default 5), BENCH_ROUNDS (default 3), BENCH_WARMUP (s,
 * default 2), BENCH_CONNECTIONS (default 50), BENCH_ONLY (regex on variant names; a filtered run
 * writes only results/<date>-only.json), BENCH_STORM=0 (skip login storms), BENCH_STORM_RATE
 * (logins/s, default 20), BENCH_METRICS=0 (skip extra figures), BENCH_PIN=0 (no taskset).
 * Before each measurement it waits (at most 10 s) for the shared machine to be quiet and
 * records how busy it was.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, availableParallelism } from 'node:os';
import { join } from 'node:path';
import { variants as registry } from './variants/index.js';
import type { LoadSample, VariantDef } from './lib/types.js';
import { ensureBuilt, killAll, pinningAvailable, REPO_ROOT, runLoad, startServer } from './lib/procs.js';
import type { RoundRecord } from './lib/summary.js';
import { markdown, type Machine } from './lib/report.js';
import { evaluate, methodNote, writeResults, type FullResults } from './lib/output.js';
import type { LoadSpec } from './load.js';
import { measurePop, popMarkdown, type PopResults } from './pop.js';
import { pingRedis } from '../test/support/services.js';
import { waitForQuiet } from './lib/quiet.js';
import { treeCpuSeconds } from './lib/cpu.js';

function intEnv(name: string, fallback: number, lo: number, hi: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const v = Number(raw);
  if (!Number.isFinite(v) || v < lo || v > hi) throw new Error(`${name} must be a number in [${lo}, ${hi}], got "${raw}"`);
  return v;
}

const config = {
  durationS: intEnv('BENCH_DURATION', 5, 1, 120),
  rounds: intEnv('BENCH_ROUNDS', 3, 1, 20),
  warmupS: intEnv('BENCH_WARMUP', 2, 0, 60),
  connections: intEnv('BENCH_CONNECTIONS', 50, 1, 1000),
  stormRate: intEnv('BENCH_STORM_RATE', 20, 1, 1000),
  storm: process.env.BENCH_STORM !== '0',
  metrics: process.env.BENCH_METRICS !== '0',
  only: process.env.BENCH_ONLY ?? '',
  pinned: pinningAvailable(),
};

const only = config.only === '' ? undefined : new RegExp(config.only);
const selected: VariantDef[] = registry.filter((v) => only === undefined || only.test(v.name));
if (selected.length === 0) throw new Error(`BENCH_ONLY=${config.only} selects no variant`);

process.on('SIGINT', () => {
  killAll();
  process.exit(130);
});

const log = (s: string): void => void process.stderr.write(s + '\n');
if (selected.some((v) => v.build)) ensureBuilt();
const loadTimeoutMs = (config.warmupS + config.durationS) * 1000 + 30_000;

async function measure(v: VariantDef, round: number, position: number): Promise<RoundRecord> {
  const record: RoundRecord = { round, variant: v.name, position };
  const busy = await waitForQuiet();
  if (busy !== undefined) record.cpuBusyBefore = busy;
  const runId = `${v.name}-${process.pid}-r${round}`;
  let server;
  try {
    server = await startServer(join('bench/variants', v.file), { PORT: '0', BENCH_RUN_ID: runId, ...v.env }, config.pinned);
  } catch (err) {
    record.error = `start: ${(err as Error).message}`;
    return record;
  }
  const baseUrl = `http://127.0.0.1:${server.port}`;
  const ctx = { baseUrl, name: v.name, runId };
  try {
    const credential = await v.setup(ctx);
    const spec: LoadSpec = {
      url: baseUrl + (v.path ?? '/me'),
      headers: credential.headers,
      ...(credential.dpop ? { dpop: credential.dpop } : {}),
      connections: config.connections,
      durationS: config.durationS,
      warmupS: config.warmupS,
    };
    const cpu0 = treeCpuSeconds(server.pid);
    const sample = await runLoad<LoadSample>(spec, config.pinned, loadTimeoutMs);
    const cpu1 = treeCpuSeconds(server.pid);
    if (cpu0 !== undefined && cpu1 !== undefined) sample.serverCpuUsPerRequest = Math.round(((cpu1 - cpu0) * 1e6) / (sample.requests + (sample.warmupRequests ?? 0)) * 10) / 10;
    if (sample.non2xx > 0 || sample.errors > 0) {
      // A run that was refused or broken measures nothing about authentication.
      throw new Error(`${sample.non2xx} non-2xx responses, ${sample.errors} errors of ${sample.requests}`);
    }
    record.sample = sample;
    log(`  ${v.name.padEnd(34)} ${Math.round(sample.rps).toString().padStart(7)} req/s  p99 ${sample.latency.p99} ms  server CPU ${sample.serverCpuUsPerRequest ?? '?'} µs/req  (other load before: ${busy ?? '?'}%)`);
    if (config.storm && v.storm !== undefined) {
      const storm = await runLoad<LoadSample>(
        { ...spec, warmupS: 0, storm: { variant: v.name, ratePerSec: config.stormRate, baseUrl, runId } },
        config.pinned,
        loadTimeoutMs,
      );
      record.storm = storm;
      log(`  ${(v.name + ' +storm').padEnd(34)} ${Math.round(storm.rps).toString().padStart(7)} req/s  p99 ${storm.latency.p99} ms, ${storm.storm?.succeeded} logins`);
    }
    if (config.metrics && v.metrics !== undefined && round === 1) {
      record.metrics = await v.metrics(ctx);
      log(`  ${(v.name + ' metrics').padEnd(34)} ${JSON.stringify(record.metrics)}`);
    }
  } catch (err) {
    record.error = (err as Error).message;
    log(`  ${v.name.padEnd(34)} FAILED: ${record.error}`);
  } finally {
    await server.stop();
  }
  return record;
}

const started = new Date();
const records: RoundRecord[] = [];
log(`bench: ${selected.length} variants × ${config.rounds} rounds × (${config.warmupS}s warm-up + ${config.durationS}s), ${config.connections} connections, ${config.pinned ? 'server on core 1, load on core 0' : 'not pinned'}`);
for (let round = 1; round <= config.rounds; round++) {
  // Interleave: every round visits every variant, starting one further along each time, so
  // that drift of the machine (other load, thermal state) spreads over all variants alike.
  const shift = (round - 1) % selected.length;
  const order = [...selected.slice(shift), ...selected.slice(0, shift)];
  log(`round ${round}/${config.rounds}`);
  for (const [position, v] of order.entries()) records.push(await measure(v, round, position));
}

const { summaries, goals } = evaluate(selected, records);
const pkg = (name: string): string =>
  (JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
const machine: Machine = {
  cpu: cpus()[0]?.model.trim() ?? 'unknown',
  cores: availableParallelism(),
  node: process.version,
  load_generator: `autocannon ${pkg('autocannon')}, ${config.connections} connections, ${config.warmupS}s warm-up + ${config.durationS}s × ${config.rounds} rounds`,
  pinning: config.pinned ? 'server pinned to core 1, load generator to core 0 (taskset)' : 'no pinning',
};
const full: FullResults = {
  date: started.toISOString().slice(0, 10),
  started_at: started.toISOString(),
  finished_at: new Date().toISOString(),
  config,
  machine,
  variants: summaries,
  goals,
  records,
};

// Proof of possession: DPoP's added cost per request and DBSC's refresh traffic, in-process (bench/pop.ts).
let pop: PopResults | null = null;
if (process.env.BENCH_POP !== '0' && (only === undefined || only.test('gatehouse-pop'))) {
  log('proof of possession (in-process): DPoP cost per request, DBSC traffic per hour');
  const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const u = new URL(redisUrl);
  const reachable = await pingRedis(u.hostname, Number(u.port || 6379)).then(() => true, () => false);
  pop = await measurePop(reachable ? redisUrl : null);
}

const dir = join(REPO_ROOT, 'bench/results');
let md: string;
if (only !== undefined) {
  // A filtered run never replaces the latest full results.
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${full.date}-only.json`), JSON.stringify(full, null, 2) + '\n');
  md = markdown(full.date, machine, summaries, goals, methodNote(records));
} else {
  md = writeResults(dir, full);
}
if (pop) {
  const section = popMarkdown(pop);
  md += '\n' + section;
  if (only === undefined) {
    writeFileSync(join(dir, 'latest-pop.json'), JSON.stringify({ date: full.date, machine, ...pop }, null, 2) + '\n');
    writeFileSync(join(dir, 'latest.md'), md);
  }
}
process.stdout.write('\n' + md);
process.exit(summaries.some((s) => s.rounds === 0) ? 1 : 0);
