/**
 * A throwaway Redis Cluster on free loopback ports, for tests: three masters, optionally a replica
 * each and an ACL user every node requires. It starts its own `redis-server` processes, joins them
 * with `redis-cli --cluster create`, waits for `cluster_state:ok`, can SIGKILL and restart one node
 * by pid (failover tests), and on stop kills exactly those pids (SIGTERM, then SIGKILL) and removes
 * its temporary directory. Also: `startRedisServer()` for a single throwaway server.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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

export async function waitUntil(what: string, ok: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await ok().catch(() => false)) return;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export const cli = async (port: number, ...args: string[]) =>
  (await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { timeout: 10_000 })).stdout;

export async function stopPid(child: ChildProcess): Promise<void> {
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

export function spawnServer(port: number, dir: string, extra: string[] = []): ChildProcess {
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

/** Credentials of an ACL user the servers require; the default user is turned off. */
export interface RedisAuth {
  user: string;
  password: string;
}

/** Server arguments that make `auth` the only way in, and let replicas authenticate to masters. */
export function authArgs(auth: RedisAuth | undefined): string[] {
  if (!auth) return [];
  return [
    '--user', 'default', 'off', 'resetpass', '-@all',
    '--user', auth.user, 'on', `>${auth.password}`, '~*', '&*', '+@all',
    '--masteruser', auth.user, '--masterauth', auth.password,
  ];
}

function cliAuth(auth: RedisAuth | undefined, tls?: TestCertificates): string[] {
  return [...(auth ? ['--user', auth.user, '--pass', auth.password, '--no-auth-warning'] : []), ...(tls ? ['--tls', '--cacert', tls.ca] : [])];
}

/** A private CA and a certificate for 127.0.0.1 it signed (files), for TLS tests. */
export interface TestCertificates {
  ca: string;
  cert: string;
  key: string;
}

/** Makes a throwaway CA and a server certificate for IP 127.0.0.1 in `dir` with the openssl CLI. */
export async function makeTestCertificates(dir: string): Promise<TestCertificates> {
  const f = (n: string) => join(dir, n);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await run('openssl', ['req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '2', '-subj', '/CN=gatehouse test CA'], { timeout: 20_000 });
  await run('openssl', ['req', ...ec, '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=127.0.0.1'], { timeout: 20_000 });
  writeFileSync(f('san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  await run('openssl', ['x509', '-req', '-in', f('server.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('server.crt'), '-days', '2', '-extfile', f('san.ext')], { timeout: 20_000 });
  return { ca: f('ca.crt'), cert: f('server.crt'), key: f('server.key') };
}

/** Server arguments for TLS only: the plain port closed, the cluster bus and replication over TLS too. */
export function tlsArgs(port: number, tls: TestCertificates | undefined): string[] {
  if (!tls) return [];
  return [
    '--port', '0', '--tls-port', String(port), '--tls-cert-file', tls.cert, '--tls-key-file', tls.key, '--tls-ca-cert-file', tls.ca,
    '--tls-auth-clients', 'no', '--tls-cluster', 'yes', '--tls-replication', 'yes',
  ];
}

export interface ClusterNode {
  port: number;
  pid: number;
  /** Whether the process is running (killed nodes are not until restarted). */
  running: boolean;
}

export interface RedisCluster {
  ports: number[];
  /** `redis+cluster://[user:password@]127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3` (the seed list: every node). */
  url: string;
  pids: number[];
  nodes: ClusterNode[];
  auth: RedisAuth | undefined;
  /** Runs redis-cli against one node (authenticated as the cluster's user) and resolves its output. */
  cli(port: number, ...args: string[]): Promise<string>;
  /** The port of the master currently serving `key`'s slot (asked of any running node). */
  masterOf(key: string): Promise<number>;
  /** SIGKILLs one node by pid. */
  kill(port: number): Promise<void>;
  /** Starts a killed node again on its port with its cluster config (it rejoins, as a replica if it lost its slots). */
  restart(port: number): Promise<void>;
  stop(): Promise<void>;
}

export interface ClusterOptions {
  /** Replicas per master (default 0). */
  replicas?: number;
  /** An ACL user every node requires (and replicas use towards their master). */
  auth?: RedisAuth;
  /** `cluster-node-timeout`: how long before a silent master is failed over (default 5000 ms). */
  nodeTimeoutMs?: number;
  /** TLS only (certificates from makeTestCertificates): the URL becomes `rediss+cluster://`. */
  tls?: TestCertificates;
}

/** Three masters (and `replicas` replicas each) on free loopback ports. */
export async function startRedisCluster(opts: ClusterOptions = {}): Promise<RedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-cluster-'));
  const children = new Map<number, ChildProcess>();
  const all: ChildProcess[] = [];
  const stop = async () => {
    await Promise.all(all.map(stopPid));
    rmSync(dir, { recursive: true, force: true });
  };
  const auth = opts.auth;
  const count = 3 * (1 + (opts.replicas ?? 0));
  const args = (p: number) => [
    '--cluster-enabled', 'yes', '--cluster-config-file', join(dir, `nodes-${p}.conf`),
    '--cluster-node-timeout', String(opts.nodeTimeoutMs ?? 5000), ...authArgs(auth), ...tlsArgs(p, opts.tls),
  ];
  const start = (p: number) => {
    const c = spawnServer(p, dir, args(p));
    children.set(p, c);
    all.push(c);
  };
  const nodeCli = (port: number, ...a: string[]) => cli(port, ...cliAuth(auth, opts.tls), ...a);
  try {
    const ports: number[] = [];
    while (ports.length < count) {
      const p = await freePort();
      // The cluster bus listens on port + 10000: it must be free too and below 65536.
      if (p + 10000 < 65536 && !ports.includes(p)) ports.push(p);
    }
    for (const p of ports) start(p);
    for (const p of ports) await waitUntil(`redis-server on ${p}`, async () => (await nodeCli(p, 'PING')).trim() === 'PONG', 10_000);
    await run('redis-cli', [
      ...cliAuth(auth, opts.tls), '--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`),
      '--cluster-replicas', String(opts.replicas ?? 0), '--cluster-yes',
    ], { timeout: 30_000 });
    for (const p of ports) {
      await waitUntil(`cluster_state:ok on ${p}`, async () => (await nodeCli(p, 'CLUSTER', 'INFO')).includes('cluster_state:ok'), 20_000);
    }
    if (opts.replicas) {
      // Every replica has finished its first sync: a failover right away would otherwise lose data
      // that a real deployment, long past its first sync, would not.
      await waitUntil('replicas in sync', async () => {
        for (const p of ports) {
          const info = await nodeCli(p, 'INFO', 'replication');
          if (info.includes('role:slave') && !info.includes('master_link_status:up')) return false;
        }
        return true;
      }, 20_000);
      // …and every node's view of the slots lists them (replica roles spread by gossip): clients
      // learn of replicas from CLUSTER SLOTS, and only a replica its peers know can be promoted.
      await waitUntil('every node to list every replica in CLUSTER SLOTS', async () => {
        for (const p of ports) {
          const ids = (await nodeCli(p, 'CLUSTER', 'SLOTS')).split('\n').filter((l) => /^[0-9a-f]{40}$/.test(l.trim()));
          if (ids.length !== count) return false;
        }
        return true;
      }, 30_000);
    }
    const running = () => ports.find((p) => children.get(p)!.exitCode === null && children.get(p)!.signalCode === null)!;
    const cred = auth ? `${encodeURIComponent(auth.user)}:${encodeURIComponent(auth.password)}@` : '';
    return {
      ports,
      url: `${opts.tls ? 'rediss' : 'redis'}+cluster://${cred}${ports.map((p) => `127.0.0.1:${p}`).join(',')}`,
      get pids() {
        return ports.map((p) => children.get(p)!.pid!);
      },
      get nodes() {
        return ports.map((p) => {
          const c = children.get(p)!;
          return { port: p, pid: c.pid!, running: c.exitCode === null && c.signalCode === null };
        });
      },
      auth,
      cli: nodeCli,
      async masterOf(key: string) {
        const slot = Number((await nodeCli(running(), 'CLUSTER', 'KEYSLOT', key)).trim());
        const nodes = (await nodeCli(running(), 'CLUSTER', 'NODES')).trim().split('\n');
        for (const line of nodes) {
          const f = line.split(' ');
          if (!f[2]!.includes('master') || f[2]!.includes('fail')) continue;
          for (const range of f.slice(8)) {
            const [a, b] = range.split('-').map(Number);
            if (slot >= a! && slot <= (b ?? a)!) return Number(/:(\d+)@/.exec(f[1]!)![1]);
          }
        }
        throw new Error(`no master serves slot ${slot}`);
      },
      async kill(port: number) {
        const c = children.get(port)!;
        if (c.exitCode !== null || c.signalCode !== null) return;
        const exited = new Promise<void>((r) => c.once('exit', () => r()));
        c.kill('SIGKILL');
        await exited;
      },
      async restart(port: number) {
        start(port);
        await waitUntil(`redis-server on ${port}`, async () => (await nodeCli(port, 'PING')).trim() === 'PONG', 10_000);
      },
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
