/** The Markdown view of one run: the main table, then goals, login storms and extra figures. */
import type { GoalResult } from '../goals.js';
import type { VariantSummary } from './summary.js';

export interface Machine {
  cpu: string;
  cores: number;
  node: string;
  load_generator: string;
  pinning: string;
}

const n = (x: number): string => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '–');
const ratio = (a: number, b: number | undefined): string =>
  b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0 ? '–' : (a / b).toFixed(2);

export function markdown(date: string, machine: Machine, variants: VariantSummary[], goals: GoalResult[], method: string): string {
  const express = variants.find((v) => v.name === 'bare-express')?.rps.median;
  const http = variants.find((v) => v.name === 'bare-http')?.rps.median;
  const expressCpu = variants.find((v) => v.name === 'bare-express')?.cpu_us_per_request?.median;
  const cpuCell = (v: VariantSummary) => (v.cpu_us_per_request ? `${v.cpu_us_per_request.median.toFixed(1)} [${v.cpu_us_per_request.min.toFixed(1)}–${v.cpu_us_per_request.max.toFixed(1)}]` : '–');
  const lines = [
    `# Benchmark ${date}`,
    '',
    `${machine.cpu}, ${machine.cores} cores, Node ${machine.node}; ${machine.load_generator}; ${machine.pinning}.`,
    method,
    '',
    '| variant | req/s median [min–max] | × bare-express | × bare-http | p99 ms | server CPU µs/req [min–max] | × bare-express by CPU |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...variants.map((v) =>
      v.rounds === 0
        ? `| ${v.name} | failed | – | – | – | – | – |`
        : `| ${v.name} | ${n(v.rps.median)} [${n(v.rps.min)}–${n(v.rps.max)}] | ${ratio(v.rps.median, express)} | ${ratio(v.rps.median, http)} | ${v.p99_ms.median.toFixed(2)} | ${cpuCell(v)} | ${ratio(expressCpu ?? NaN, v.cpu_us_per_request?.median)} |`,
    ),
    '',
    'Server CPU per request: CPU time of the server process and everything it started (from /proc), over warm-up and measurement, ' +
      'divided by the requests served. Other work on the shared machine moves req/s far more than this figure; "× bare-express by CPU" is bare ' +
      "Express's CPU per request divided by the variant's (above 1: cheaper than bare Express).",
  ];
  lines.push('', '## Goals', '');
  if (goals.length === 0) lines.push('No variant selected by a goal ran (goals apply to Gatehouse variants).');
  else {
    lines.push('| goal | target | value | met |', '|---|---:|---:|:---:|');
    for (const g of goals) lines.push(`| ${g.name} | ${g.target} | ${g.value} | ${g.met ? 'yes' : '**no**'} |`);
  }
  const storms = variants.filter((v) => v.storm !== undefined);
  if (storms.length > 0) {
    lines.push('', '## Login storm', '', '| variant | idle p99 ms | p99 ms during storm | × idle | logins/s achieved | login p99 ms |', '|---|---:|---:|---:|---:|---:|');
    for (const v of storms) {
      const s = v.storm!;
      lines.push(`| ${v.name} | ${s.idle_p99_ms.median} | ${s.p99_ms.median} | ${ratio(s.p99_ms.median, s.idle_p99_ms.median)} | ${s.logins_per_s.median} | ${s.login_p99_ms.median} |`);
    }
  }
  const withMetrics = variants.filter((v) => v.metrics !== undefined);
  if (withMetrics.length > 0) {
    lines.push('', '## Other figures', '');
    for (const v of withMetrics) {
      lines.push(`- ${v.name}: ${Object.entries(v.metrics!).map(([k, x]) => `${k} = ${x}`).join(', ')}`);
    }
  }
  const failed = variants.filter((v) => v.errors.length > 0);
  if (failed.length > 0) {
    lines.push('', '## Errors', '');
    for (const v of failed) for (const e of v.errors) lines.push(`- ${v.name}, ${e}`);
  }
  lines.push('', '## Variants', '');
  for (const v of variants) lines.push(`- \`${v.name}\`: ${v.description}`);
  return lines.join('\n') + '\n';
}
