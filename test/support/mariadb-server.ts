/**
 * A throwaway MariaDB server of our own, for fault tests that stop the database: `mariadbd` on a free
 * loopback port with an empty data directory in a temporary folder (no grant tables: any user is
 * root), started in about two seconds. The shared server at 127.0.0.1:3306 is never touched. Stops are
 * by our own child's pid only (SIGTERM, then SIGKILL), bounded; `stop()` removes the directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { freePort } from './redis-cluster.js';

export const MARIADBD = process.env.GATEHOUSE_TEST_MARIADBD ?? '/usr/sbin/mariadbd';

export interface MariadbServer {
  port: number;
  /** Root URL of the server (database `test`, created at start). */
  url: string;
  readonly pid: number;
  /** Kills the server (SIGKILL: an abrupt outage; InnoDB recovers on restart). */
  kill(): Promise<void>;
  /** Shuts the server down cleanly (SIGTERM), at most 20 s. */
  shutdown(): Promise<void>;
  /** Starts it again on the same port and data directory. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export function mariadbdAvailable(): boolean {
  return existsSync(MARIADBD);
}

function spawnServer(port: number, dir: string): ChildProcess {
  const child = spawn(MARIADBD, [
    '--no-defaults', `--datadir=${join(dir, 'data')}`, `--port=${port}`, '--bind-address=127.0.0.1',
    `--socket=${join(dir, 'mysqld.sock')}`, `--pid-file=${join(dir, 'mysqld.pid')}`, `--log-error=${join(dir, 'error.log')}`,
    '--skip-grant-tables', '--skip-log-bin', '--innodb-buffer-pool-size=32M', '--innodb-log-file-size=16M',
    '--max-connections=50', '--user=root',
  ], { stdio: 'ignore' });
  child.on('error', () => {});
  return child;
}

async function ready(port: number, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      const c = await mysql.createConnection({ host: '127.0.0.1', port, user: 'root', connectTimeout: 1000 });
      try {
        await c.query('CREATE DATABASE IF NOT EXISTS test');
      } finally {
        await c.end().catch(() => {});
      }
      return;
    } catch (e) {
      if (Date.now() > until) throw new Error(`mariadbd on port ${port} did not come up within ${timeoutMs} ms`, { cause: e });
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

async function exit(child: ChildProcess, signal: NodeJS.Signals, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return true;
  const exited = new Promise<boolean>((r) => child.once('exit', () => r(true)));
  child.kill(signal);
  return Promise.race([exited, new Promise<boolean>((r) => setTimeout(() => r(false), timeoutMs))]);
}

export async function startMariadbServer(): Promise<MariadbServer> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-mariadb-'));
  mkdirSync(join(dir, 'data'));
  const port = await freePort();
  let child = spawnServer(port, dir);
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  try {
    await ready(port);
    // A fresh data directory lives in the redo log until the first checkpoint, and a crash before it
    // cannot be recovered: one clean shutdown writes it out, so that kill() is an ordinary crash.
    if (!(await exit(child, 'SIGTERM', 20_000))) throw new Error('mariadbd did not shut down within 20 s');
    child = spawnServer(port, dir);
    await ready(port);
  } catch (e) {
    await exit(child, 'SIGKILL', 5000);
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const server: MariadbServer = {
    port,
    url: `mysql://root@127.0.0.1:${port}/test`,
    get pid() {
      return child.pid!;
    },
    async kill() {
      await exit(child, 'SIGKILL', 10_000);
    },
    async shutdown() {
      if (!(await exit(child, 'SIGTERM', 20_000))) await exit(child, 'SIGKILL', 10_000);
    },
    async restart() {
      child = spawnServer(port, dir);
      await ready(port);
    },
    async stop() {
      await server.shutdown();
      process.removeListener('exit', killOnExit);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return server;
}
