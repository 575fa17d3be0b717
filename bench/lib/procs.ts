/**
 * Child processes of the benchmark: variant servers (core 1) and the load generator (core 0).
 * Every wait is bounded; every child is stopped by its own pid.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { once } from 'node:events';

export const REPO_ROOT = new URL('../../', import.meta.url).pathname;

/** Pinning is used when taskset exists and there are at least two cores; BENCH_PIN=0 turns it off. */
export function pinningAvailable(): boolean {
  if (process.env.BENCH_PIN === '0' || availableParallelism() < 2) return false;
  const r = spawnSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore' });
  return r.status === 0;
}

/** `[cmd, ...args]` that runs a TypeScript file with tsx, pinned to `core` when `pin`. */
function tsxCommand(file: string, core: number, pin: boolean, nodeArgs: string[] = []): [string, string[]] {
  const node = [process.execPath, ...nodeArgs, '--import', 'tsx', file];
  return pin ? ['taskset', ['-c', String(core), ...node]] : [node[0]!, node.slice(1)];
}

/** Builds dist/ when it is missing or older than src/ (what `npm start` does), for variants that run the package as shipped. */
export function ensureBuilt(): void {
  const r = spawnSync(process.execPath, ['scripts/build-if-needed.mjs'], { cwd: REPO_ROOT, stdio: 'inherit', timeout: 300_000 });
  if (r.status !== 0) throw new Error('building dist/ failed');
}

const live = new Set<ChildProcess>();

/** Stops every child still running (used on SIGINT of the harness). */
export function killAll(): void {
  for (const c of live) if (c.pid !== undefined && c.exitCode === null) c.kill('SIGKILL');
}

export interface RunningServer {
  port: number;
  /** The server's process id (its CPU time is read from /proc by bench/cpu.ts). */
  pid: number;
  stop(): Promise<void>;
  stderrTail(): string;
}

/** `nodeArgs` go to the server's node before the file (e.g. `--cpu-prof` for bench/profile.ts). */
export async function startServer(file: string, env: Record<string, string>, pin: boolean, timeoutMs = 20_000, nodeArgs: string[] = []): Promise<RunningServer> {
  const [cmd, args] = tsxCommand(file, 1, pin, nodeArgs);
  const child = spawn(cmd, args, { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  child.once('exit', () => live.delete(child));
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr = (stderr + d).slice(-2000);
  });
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 6_000);
    await exited;
    clearTimeout(timer);
  };
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`not ready within ${timeoutMs} ms`)), timeoutMs);
      child.stdout!.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        const m = /^READY (\d+)$/m.exec(out);
        if (m !== null) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`exited with ${code} before READY`));
      });
    });
    return { port, pid: child.pid!, stop, stderrTail: () => stderr.trim() };
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}${stderr ? `: ${stderr.trim().split('\n').slice(-3).join(' | ')}` : ''}`);
  }
}

/** Runs bench/load.ts pinned to core 0, feeding `spec` on stdin, and parses its JSON line. */
export async function runLoad<T>(spec: object, pin: boolean, timeoutMs: number): Promise<T> {
  const [cmd, args] = tsxCommand('bench/load.ts', 0, pin);
  const child = spawn(cmd, args, { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  live.add(child);
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(-2000)));
  child.stdin!.end(JSON.stringify(spec));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  live.delete(child);
  const line = out.trim().split('\n').at(-1) ?? '';
  if (code !== 0 || !line.startsWith('{')) {
    throw new Error(`load generator failed (exit ${code}): ${err.trim().split('\n').slice(-3).join(' | ')}`);
  }
  return JSON.parse(line) as T;
}
