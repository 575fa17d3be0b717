/**
 * Where the time goes: runs one variant under `node --cpu-prof` while the load generator drives its
 * GET, then prints the functions with the most self time (and the share of samples in Gatehouse's
 * own code). The profile file is kept for Chrome DevTools or speedscope.
 *
 *   node --import tsx bench/profile.ts gatehouse-session-memory [seconds=5] [top=25]
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findVariant } from './variants/index.js';
import { ensureBuilt, pinningAvailable, REPO_ROOT, runLoad, startServer } from './lib/procs.js';
import type { LoadSample } from './lib/types.js';

interface ProfileNode {
  id: number;
  children?: number[];
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

const name = process.argv[2];
const seconds = Number(process.argv[3] ?? 5);
const top = Number(process.argv[4] ?? 25);
const v = name === undefined ? undefined : findVariant(name);
if (v === undefined) throw new Error(`usage: bench/profile.ts <variant> [seconds] [top]; unknown variant ${name}`);

if (v.build) ensureBuilt();
const dir = join(REPO_ROOT, 'bench/results/tmp/profiles', `${v.name}-${Date.now()}`);
mkdirSync(dir, { recursive: true });
const pin = pinningAvailable();
const runId = `${v.name}-${process.pid}-profile`;
const profArgs = ['--cpu-prof', `--cpu-prof-dir=${dir}`];
// A variant that runs the shipped server profiles that process, not the script that starts it.
const server = v.build
  ? await startServer(join('bench/variants', v.file), { PORT: '0', BENCH_RUN_ID: runId, ...v.env, BENCH_SERVE_NODE_ARGS: profArgs.join(' ') }, pin, 20_000)
  : await startServer(join('bench/variants', v.file), { PORT: '0', BENCH_RUN_ID: runId, ...v.env }, pin, 20_000, profArgs);
let sample: LoadSample;
try {
  const baseUrl = `http://127.0.0.1:${server.port}`;
  const cred = await v.setup({ baseUrl, name: v.name, runId });
  sample = await runLoad<LoadSample>({ url: baseUrl + (v.path ?? '/me'), headers: cred.headers, connections: 50, durationS: seconds, warmupS: 1 }, pin, (seconds + 40) * 1000);
} finally {
  await server.stop();
}
const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
if (file === undefined) throw new Error(`no profile written in ${dir}`);
const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { nodes: ProfileNode[] };

const total = profile.nodes.reduce((a, n) => a + (n.hitCount ?? 0), 0);
const idle = profile.nodes.filter((n) => ['(idle)', '(program)', '(garbage collector)'].includes(n.callFrame.functionName));
const self = new Map<string, number>();
let ours = 0;
for (const n of profile.nodes) {
  const hits = n.hitCount ?? 0;
  const where = n.callFrame.url.replace(/^file:\/\//, '').replace(REPO_ROOT, '');
  const key = `${n.callFrame.functionName || '(anonymous)'}  ${where}${where ? `:${n.callFrame.lineNumber + 1}` : ''}`;
  self.set(key, (self.get(key) ?? 0) + hits);
  if (where.startsWith('src/') || where.startsWith('dist/')) ours += hits;
}
// Inclusive time in Gatehouse: every subtree whose root frame is in src/ (outermost only, so nothing
// is counted twice). Async continuations start new subtrees under the microtask queue; they count too.
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const inSrc = (n: ProfileNode) => /^(src|dist)\//.test(n.callFrame.url.replace(/^file:\/\//, '').replace(REPO_ROOT, ''));
// A framework called back from our middleware (Express's `next()`) is not ours: stop there.
const framework = (n: ProfileNode) => /node_modules\/(express|router)\//.test(n.callFrame.url);
const subtree = (n: ProfileNode): number =>
  (n.hitCount ?? 0) + (n.children ?? []).reduce((a, c) => (framework(byId.get(c)!) ? a : a + subtree(byId.get(c)!)), 0);
let inclusive = 0;
const walk = (n: ProfileNode): void => {
  if (inSrc(n)) inclusive += subtree(n);
  else for (const c of n.children ?? []) walk(byId.get(c)!);
};
walk(profile.nodes[0]!);
const pct = (h: number) => ((100 * h) / total).toFixed(1).padStart(5) + ' %';
console.log(`${v.name}: ${Math.round(sample.rps)} req/s, p99 ${sample.latency.p99} ms; ${total} samples (${idle.map((n) => `${n.callFrame.functionName} ${pct(n.hitCount ?? 0).trim()}`).join(', ')})`);
const busy = total - (idle.find((n) => n.callFrame.functionName === '(idle)')?.hitCount ?? 0);
console.log(`Gatehouse (src/): self ${pct(ours).trim()}, inclusive ${pct(inclusive).trim()} of all samples = ${((100 * inclusive) / busy).toFixed(1)} % of busy time, ≈ ${((inclusive / busy) * (1e6 / sample.rps)).toFixed(1)} µs per request\n`);
for (const [k, h] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(h)}  ${k}`);
console.log(`\nprofile: ${join(dir, file).replace(REPO_ROOT, '')}`);
