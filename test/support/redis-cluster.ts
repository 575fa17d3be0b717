/**
 * A throwaway three-master Redis Cluster on free loopback ports, for tests. It starts its own
 * `redis-server` processes, joins them with `redis-cli --cluster create`, waits for
 * `cluster_state:ok`, and on stop kills exactly those pids (SIGTERM, then SIGKILL) and removes its
 * temporary directory. Also: `startRedisServer()` for a single throwaway server.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitUntil(what: string, ok: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await ok().catch(() => false)) return;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const cli = async (port: number, ...args: string[]) =>
  (await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { timeout: 10_000 })).stdout;

async function stopPid(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const killed = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 3000))]);
  if (!killed) {
    child.kill('SIGKILL');
    await exited;
  }
}

export interface RedisServer {
  port: number;
  url: string;
  pid: number;
  /** Kills the server (SIGKILL: an abrupt outage). */
  kill(): Promise<void>;
  /** Starts it again on the same port. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

function spawnServer(port: number, dir: string, extra: string[] = []): ChildProcess {
  const child = spawn('redis-server', [
    '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no',
    '--dir', dir, '--logfile', join(dir, `redis-${port}.log`), ...extra,
  ], { stdio: 'ignore' });
  child.on('error', () => {});
  return child;
}

/** One standalone redis-server of our own on a free port. */
export async function startRedisServer(): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-redis-'));
  const port = await freePort();
  let child = spawnServer(port, dir);
  const ready = () => waitUntil(`redis-server on ${port}`, async () => (await cli(port, 'PING')).trim() === 'PONG', 10_000);
  await ready();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get pid() {
      return child.pid!;
    },
    async kill() {
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGKILL');
      await exited;
    },
    async restart() {
      child = spawnServer(port, dir);
      await ready();
    },
    async stop() {
      await stopPid(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface RedisCluster {
  ports: number[];
  /** `redis+cluster://127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3` */
  url: string;
  pids: number[];
  stop(): Promise<void>;
}

/** A three-master cluster (no replicas) on free loopback ports. */
export async function startRedisCluster(): Promise<RedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-cluster-'));
  const children: ChildProcess[] = [];
  const stop = async () => {
    await Promise.all(children.map(stopPid));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const ports: number[] = [];
    while (ports.length < 3) {
      const p = await freePort();
      // The cluster bus listens on port + 10000: it must be free too and below 65536.
      if (p + 10000 < 65536 && !ports.includes(p)) ports.push(p);
    }
    for (const p of ports) {
      children.push(spawnServer(p, dir, ['--cluster-enabled', 'yes', '--cluster-config-file', join(dir, `nodes-${p}.conf`)]));
    }
    for (const p of ports) await waitUntil(`redis-server on ${p}`, async () => (await cli(p, 'PING')).trim() === 'PONG', 10_000);
    await run('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'], {
      timeout: 30_000,
    });
    for (const p of ports) {
      await waitUntil(`cluster_state:ok on ${p}`, async () => (await cli(p, 'CLUSTER', 'INFO')).includes('cluster_state:ok'), 20_000);
    }
    return {
      ports,
      url: `redis+cluster://${ports.map((p) => `127.0.0.1:${p}`).join(',')}`,
      pids: children.map((c) => c.pid!),
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
