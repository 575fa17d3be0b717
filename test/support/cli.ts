/** Runs the `gatehouse` CLI as a separate process against a SQLite file in a scratch directory. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

export const CLI_ROOT = join(import.meta.dirname, '..', '..');
export const CLI_ENTRY = 'src/server/cli-main.ts';

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A minimal environment: a SQLite database and data directory in `dir`, cheap password hashing. */
export function cliEnv(dir: string, logLevel: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    GATEHOUSE_DATABASE_URL: `sqlite:${join(dir, 'gh.db')}`,
    GATEHOUSE_DATA_DIR: dir,
    GATEHOUSE_LOG_LEVEL: logLevel,
    GATEHOUSE_UNSAFE_WEAK_PASSWORD_HASHING: 'true',
    GATEHOUSE_PASSWORD_HASH_MEMORY: '1024',
    GATEHOUSE_PASSWORD_HASH_TIME: '1',
  };
}

/**
 * Runs `gatehouse ARGS` to completion (killed after 30 s). With `stdin` the text is piped in and
 * closed; without it stdin is not connected at all.
 */
export function runCli(args: string[], opts: { env: NodeJS.ProcessEnv; stdin?: string }): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI_ENTRY, ...args], {
      cwd: CLI_ROOT,
      env: opts.env,
      stdio: [opts.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    if (opts.stdin !== undefined) child.stdin!.end(opts.stdin);
  });
}
