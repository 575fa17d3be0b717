/**
 * The scale bench's result files: `<date>.json` (every figure and raw load sample), `latest.json`
 * (the same), `latest.md` (tables and goals) and `latest.svg` (the curves). `render.ts` in this folder
 * re-renders them from a stored JSON without measuring.
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { LoadSample } from '../lib/types.js';
import { lineCharts, type LinePanel } from './svg.js';

/** One load run, with how busy the machine was with other work just before it (percent of all CPUs). */
export type ScaleSample = LoadSample & { cpuBusyBefore?: number; serverCpuUsPerRequest?: number };

export interface LevelResult {
  n: number;
  users: number;
  revoked: number;
  fillMs: number;
  bytes: { total: number; perSession: number; method: string };
  startup: { startMs: number; processMs: number; heapUsed: number; rss: number } | null;
  hit: ScaleSample | null;
  miss: ScaleSample | null;
}

export interface StoreResult {
  store: string;
  levels: LevelResult[];
  memory: { bytesPerSession: number; bytesPerUser: number; k: number } | null;
  sweep: { rows: number; removed: number; sweepMs: number; idle: ScaleSample; during: ScaleSample } | null;
  /** Why the store's run stopped, when it did. */
  error?: string;
}

export interface ScaleResults {
  date: string;
  started_at: string;
  finished_at: string;
  config: Record<string, unknown>;
  machine: { node: string; cores: number; pinning: string };
  stores: StoreResult[];
  /** Where stores come from different runs (merged by hand), which run each is from. */
  note?: string;
}

export interface ScaleGoal {
  name: string;
  target: string;
  value: string;
  met: boolean;
}

const r0 = (x: number) => Math.round(x).toLocaleString('en-US');
const r2 = (x: number) => (Math.round(x * 100) / 100).toString();

export function scaleGoals(full: ScaleResults): ScaleGoal[] {
  const goals: ScaleGoal[] = [];
  for (const s of full.stores) {
    if (s.store === 'sqlite' || s.store === 'redis') {
      const ratios = s.levels.filter((l) => l.hit && l.miss).map((l) => ({ n: l.n, x: l.miss!.rps / l.hit!.rps }));
      if (ratios.length > 0) {
        const worst = ratios.reduce((a, b) => (b.x < a.x ? b : a));
        goals.push({ name: `${s.store}: miss-path req/s ÷ hit-path req/s (worst N)`, target: '≥ 0.5', value: `${r2(worst.x)} at ${r0(worst.n)}`, met: worst.x >= 0.5 });
      }
      // The same ratio from the server's own CPU time per request: what its throughput would be when CPU
      // bound, undisturbed by other work on a shared machine or by the load generator's ceiling.
      const cpu = s.levels.filter((l) => l.hit?.serverCpuUsPerRequest && l.miss?.serverCpuUsPerRequest).map((l) => ({ n: l.n, x: l.hit!.serverCpuUsPerRequest! / l.miss!.serverCpuUsPerRequest! }));
      if (cpu.length > 0) {
        const worst = cpu.reduce((a, b) => (b.x < a.x ? b : a));
        goals.push({ name: `${s.store}: the same from server CPU per request (hit ÷ miss, worst N)`, target: '≥ 0.5', value: `${r2(worst.x)} at ${r0(worst.n)}`, met: worst.x >= 0.5 });
      }
    }
    if (s.memory) goals.push({ name: `${s.store}: process memory per cached session`, target: '≤ 300 B', value: `${r0(s.memory.bytesPerSession)} B`, met: s.memory.bytesPerSession <= 300 });
    if (s.sweep) {
      const x = s.sweep.during.latency.p99 / Math.max(1, s.sweep.idle.latency.p99);
      goals.push({ name: `${s.store}: GET /auth/me p99 during the sweep of ${r0(s.sweep.rows)} rows ÷ idle`, target: '≤ 2×', value: `${r2(x)}× (${s.sweep.during.latency.p99} ms vs ${s.sweep.idle.latency.p99} ms)`, met: x <= 2 });
    }
    const big = s.levels.at(-1);
    if (big?.startup && big.n >= 1_000_000) {
      goals.push({ name: `${s.store}: start-up with ${r0(big.n)} sessions and ${r0(big.revoked)} revocations`, target: '< 2 s', value: `${r0(big.startup.startMs)} ms`, met: big.startup.startMs < 2000 });
    }
  }
  return goals;
}

export function scaleMarkdown(full: ScaleResults, goals: ScaleGoal[]): string {
  const lines: string[] = [
    `# Scale bench ${full.date}`,
    '',
    `Node ${full.machine.node}, ${full.machine.cores} cores, pinning: ${full.machine.pinning}. ${String(full.config.connections)} connections, ` +
      `${String(full.config.warmupS)} s warm-up + ${String(full.config.durationS)} s per figure, one round. Hit path: ${r0(Number(full.config.hitSet))} sessions in turn ` +
      `(they fit the default cache of 100,000); miss path: cache off (\`cacheMaxEntries: 0\`), ${r0(Number(full.config.missSet))} sessions spread over all N in turn, ` +
      `so every request reads its session and user from the store. ${String(full.config.sessionsPerUser)} sessions per user; ${r0(Number(full.config.revoked))} revocations in the change feed at every start.`,
    ...(full.note ? ['', full.note] : []),
    '',
    '## Goals',
    '',
    '| goal | target | value | met |',
    '|---|---|---|---|',
    ...goals.map((g) => `| ${g.name} | ${g.target} | ${g.value} | ${g.met ? 'yes' : '**no**'} |`),
    '',
    '## GET /auth/me as N grows',
    '',
    '| store | N | hit req/s | hit p99 ms | hit CPU µs/req | miss req/s | miss p99 ms | miss CPU µs/req | miss ÷ hit (req/s; CPU) | bytes/session in store | start-up ms (process) | heap after start MB | fill s |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const s of full.stores) {
    for (const l of s.levels) {
      const cpuH = l.hit?.serverCpuUsPerRequest;
      const cpuM = l.miss?.serverCpuUsPerRequest;
      const ratio = l.hit && l.miss ? `${r2(l.miss.rps / l.hit.rps)}; ${cpuH && cpuM ? r2(cpuH / cpuM) : '–'}` : '–';
      lines.push(
        `| ${s.store} | ${r0(l.n)} | ${l.hit ? r0(l.hit.rps) : '–'} | ${l.hit?.latency.p99 ?? '–'} | ${cpuH ? r0(cpuH) : '–'} | ${l.miss ? r0(l.miss.rps) : '–'} | ${l.miss?.latency.p99 ?? '–'} | ${cpuM ? r0(cpuM) : '–'} | ${ratio} | ${r0(l.bytes.perSession)} | ` +
          `${l.startup ? `${r0(l.startup.startMs)} (${r0(l.startup.processMs)})` : '–'} | ${l.startup ? r2(l.startup.heapUsed / 2 ** 20) : '–'} | ${r2(l.fillMs / 1000)} |`,
      );
    }
  }
  for (const s of full.stores) if (s.error) lines.push('', `**${s.store} failed:** ${s.error}`);
  lines.push('', '## Process memory per cached session', '', '| store | sessions cached | bytes per session | bytes per cached user |', '|---|---:|---:|---:|');
  for (const s of full.stores) if (s.memory) lines.push(`| ${s.store} | ${r0(s.memory.k)} | ${r0(s.memory.bytesPerSession)} | ${r0(s.memory.bytesPerUser)} |`);
  lines.push('', '## The expired-row sweep', '', '| store | expired rows | removed | sweep ms | p99 idle ms | p99 during ms | req/s idle | req/s during |', '|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const s of full.stores) {
    if (!s.sweep) continue;
    const w = s.sweep;
    lines.push(`| ${s.store} | ${r0(w.rows)} | ${r0(w.removed)} | ${r0(w.sweepMs)} | ${w.idle.latency.p99} | ${w.during.latency.p99} | ${r0(w.idle.rps)} | ${r0(w.during.rps)} |`);
  }
  lines.push('', 'Bytes per session: SQLite `dbstat` pages of `sessions` and its indexes; PostgreSQL `pg_total_relation_size(sessions)`; Redis `MEMORY USAGE` of a sample of the per-user session hashes over the sessions in them. Start-up: from before `createGatehouseNode` to listening (open, migrations, keys, change-feed replay into the revocation set); in parentheses the whole process including Node and tsx compiling TypeScript. Redis has no sweep: sessions expire by TTL.', '');
  const busy = full.stores.flatMap((s) => [...s.levels.flatMap((l) => [l.hit, l.miss]), s.sweep?.idle]).flatMap((x) => (x?.cpuBusyBefore === undefined ? [] : [x.cpuBusyBefore]));
  if (busy.length > 0) {
    const sorted = [...busy].sort((a, b) => a - b);
    const med = sorted[sorted.length >> 1]!;
    lines.push(`CPU busy with other work just before a measurement: median ${med}%, max ${sorted.at(-1)}% (the machine is shared).${med > 50 ? ' **Noisy run:** other work kept the CPUs busy; absolute figures are low and ratios are rough.' : ''}`, '');
  }
  return lines.join('\n');
}

const COLOURS: Record<string, string> = { sqlite: '#2b7a4b', redis: '#c0392b', postgres: '#3b6ea8' };

export function scaleSvg(full: ScaleResults): string {
  const panels: LinePanel[] = [
    {
      title: 'GET /auth/me req/s (solid: hit, dashed: miss)',
      format: (y) => r0(y),
      series: full.stores.flatMap((s) => [
        { label: `${s.store} hit`, colour: COLOURS[s.store] ?? '#444', points: s.levels.filter((l) => l.hit).map((l) => [l.n, l.hit!.rps] as [number, number]) },
        { label: `${s.store} miss`, colour: COLOURS[s.store] ?? '#444', dashed: true, points: s.levels.filter((l) => l.miss).map((l) => [l.n, l.miss!.rps] as [number, number]) },
      ]),
    },
    {
      title: 'GET /auth/me p99, ms (solid: hit, dashed: miss)',
      format: (y) => r2(y),
      series: full.stores.flatMap((s) => [
        { label: `${s.store} hit`, colour: COLOURS[s.store] ?? '#444', points: s.levels.filter((l) => l.hit).map((l) => [l.n, l.hit!.latency.p99] as [number, number]) },
        { label: `${s.store} miss`, colour: COLOURS[s.store] ?? '#444', dashed: true, points: s.levels.filter((l) => l.miss).map((l) => [l.n, l.miss!.latency.p99] as [number, number]) },
      ]),
    },
    {
      title: 'server CPU µs per GET /auth/me (solid: hit, dashed: miss)',
      format: (y) => r0(y),
      series: full.stores.flatMap((s) => [
        { label: `${s.store} hit`, colour: COLOURS[s.store] ?? '#444', points: s.levels.filter((l) => l.hit?.serverCpuUsPerRequest).map((l) => [l.n, l.hit!.serverCpuUsPerRequest!] as [number, number]) },
        { label: `${s.store} miss`, colour: COLOURS[s.store] ?? '#444', dashed: true, points: s.levels.filter((l) => l.miss?.serverCpuUsPerRequest).map((l) => [l.n, l.miss!.serverCpuUsPerRequest!] as [number, number]) },
      ]),
    },
    {
      title: 'bytes per session in the store',
      format: (y) => r0(y),
      series: full.stores.map((s) => ({ label: s.store, colour: COLOURS[s.store] ?? '#444', points: s.levels.map((l) => [l.n, l.bytes.perSession] as [number, number]) })),
    },
    {
      title: 'heap after start-up, MB (100k revocations held)',
      format: (y) => r2(y),
      series: full.stores.map((s) => ({ label: s.store, colour: COLOURS[s.store] ?? '#444', points: s.levels.filter((l) => l.startup).map((l) => [l.n, l.startup!.heapUsed / 2 ** 20] as [number, number]) })),
    },
    {
      title: 'start-up, ms (with the revocations in the feed)',
      format: (y) => r0(y),
      goal: { y: 2000, label: 'goal < 2 s' },
      series: full.stores.map((s) => ({ label: s.store, colour: COLOURS[s.store] ?? '#444', points: s.levels.filter((l) => l.startup).map((l) => [l.n, l.startup!.startMs] as [number, number]) })),
    },
  ];
  return lineCharts(`Gatehouse scale bench ${full.date}: cost as sessions grow, ${full.machine.cores} cores, Node ${full.machine.node}`, panels);
}

/** Writes the result files into `dir`; returns the Markdown. */
export function writeScaleResults(dir: string, full: ScaleResults): string {
  mkdirSync(dir, { recursive: true });
  const goals = scaleGoals(full);
  const md = scaleMarkdown(full, goals);
  const json = JSON.stringify({ ...full, goals }, null, 2) + '\n';
  writeFileSync(join(dir, `${full.date}.json`), json);
  writeFileSync(join(dir, 'latest.json'), json);
  writeFileSync(join(dir, 'latest.md'), md);
  writeFileSync(join(dir, 'latest.svg'), scaleSvg(full));
  return md;
}
