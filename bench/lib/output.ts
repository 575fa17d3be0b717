/**
 * Turns the raw records of a run into the four result files. Used by run.ts after measuring and
 * by render.ts to re-render a stored run (e.g. after a change of goals or chart) without
 * measuring again.
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { evaluateGoals, type GoalResult } from '../goals.js';
import { markdown, type Machine } from './report.js';
import { median } from './stats.js';
import { summarize, type RoundRecord, type VariantSummary } from './summary.js';
import { svgChart } from './svg.js';

export interface FullResults {
  date: string;
  started_at: string;
  finished_at: string;
  config: Record<string, unknown>;
  machine: Machine;
  variants: VariantSummary[];
  goals: GoalResult[];
  records: RoundRecord[];
}

/** Summaries and goals recomputed from the records, in the order the variants are given. */
export function evaluate(variants: ReadonlyArray<{ name: string; description: string }>, records: RoundRecord[]) {
  const summaries = variants.map((v) => summarize(v.name, v.description, records));
  return { summaries, goals: evaluateGoals(summaries) };
}

export function methodNote(records: RoundRecord[]): string {
  const busy = records.flatMap((r) => (r.cpuBusyBefore === undefined ? [] : [r.cpuBusyBefore]));
  let note =
    "Each variant runs as its own server process, started fresh every round; rounds interleave all variants; figures are medians over rounds (p99: median of the rounds' p99).";
  if (busy.length > 0) {
    note += ` CPU busy with other work just before a measurement: median ${median(busy)}%, max ${Math.max(...busy)}% (the machine is shared).`;
    if (median(busy) > 50) {
      note +=
        '\n\n**Noisy run:** other work kept the CPUs busy before most measurements, so the figures, ratios and goals below are unreliable; rerun `npm run bench` on a quiet machine.';
    }
  }
  return note;
}

/** Writes `<date>.json`, latest.json, latest.md and latest.svg into `dir`; returns the Markdown. */
export function writeResults(dir: string, full: FullResults): string {
  mkdirSync(dir, { recursive: true });
  const md = markdown(full.date, full.machine, full.variants, full.goals, methodNote(full.records));
  const latest = {
    date: full.date,
    machine: full.machine,
    variants: full.variants
      .filter((s) => s.rounds > 0)
      .map((s) => ({ name: s.name, rps: { min: s.rps.min, median: s.rps.median, max: s.rps.max }, p99_ms: { median: s.p99_ms.median } })),
    goals: full.goals,
  };
  writeFileSync(join(dir, `${full.date}.json`), JSON.stringify(full, null, 2) + '\n');
  writeFileSync(join(dir, 'latest.json'), JSON.stringify(latest, null, 2) + '\n');
  writeFileSync(join(dir, 'latest.md'), md);
  writeFileSync(
    join(dir, 'latest.svg'),
    svgChart(`Gatehouse bench ${full.date}: GET of a tiny authenticated JSON, ${full.machine.cores} cores, Node ${full.machine.node}`, full.variants),
  );
  return md;
}
