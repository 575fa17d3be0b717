/**
 * A throwaway Sentinel deployment on free loopback ports, for tests: one master, one replica and
 * three Sentinels (quorum 2) watching it, optionally with an ACL user the servers require and a
 * password the Sentinels require. Every process is ours, started and stopped by pid; the master can
 * be SIGKILLed and restarted (it comes back empty, and the Sentinels turn it into a replica of the
 * promoted one). Data lives in a private temporary directory, removed on stop.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { authArgs, cli, freePort, spawnServer, stopPid, tlsArgs, waitUntil, type RedisAuth, type TestCertificates } from './redis-cluster.js';

export interface SentinelOptions {
  /** An ACL user the master and replica require (replicas and Sentinels use it too). */
  auth?: RedisAuth;
  /** The Sentinels' own `requirepass`. */
  sentinelPassword?: string;
  /** How long a silent master is left before the Sentinels fail it over (default 1000 ms). */
  downAfterMs?: number;
  /** Extra server arguments for master and replica (e.g. min-replicas-to-write). */
  serverArgs?: string[];
  /** The monitored name (default `mymaster`). */
  name?: string;
  /** How many Sentinels (default 3, quorum 2); 0 starts only the master and its replica. */
  sentinels?: number;
  /** TLS only, for the servers and the Sentinels: the URL becomes `rediss+sentinel://`. */
  tls?: TestCertificates;
}

export interface SentinelGroup {
  name: string;
  sentinelPorts: number[];
  /** `redis+sentinel://[user:pass@]127.0.0.1:S1,…/name[?sentinel_password=…]` */
  url: string;
  /** `redis://[user:pass@]127.0.0.1:M`: the first master directly, without the Sentinels. */
  directUrl: string;
  /** The two data ports: the first started as master, the second as its replica. */
  dataPorts: [number, number];
  auth: RedisAuth | undefined;
  /** redis-cli against a data node, authenticated as the group's user. */
  cli(port: number, ...args: string[]): Promise<string>;
  /** The master's port as the Sentinels report it now (asked of the first Sentinel that answers). */
  master(): Promise<number>;
  /** Whether the process on `port` is running. */
  running(port: number): boolean;
  /** SIGKILLs the data node on `port` by pid. */
  kill(port: number): Promise<void>;
  /**
   * Starts it again on its port, empty (no persistence). Without `replicaOf` it comes back as a
   * master and the Sentinels turn it into a replica when they next look (up to 10 s); with it, it
   * starts as the replica of that port, as its rewritten configuration would have it.
   */
  restart(port: number, replicaOf?: number): Promise<void>;
  /** SIGSTOP / SIGCONT a data node (a replica that stops acknowledging without disconnecting). */
  pause(port: number): void;
  resume(port: number): void;
  stop(): Promise<void>;
}

/** A value quoted for a Redis config file (spaces, quotes and backslashes survive). */
const q = (v: string) => `"${v.replace(/[\\"]/g, (c) => `\\${c}`)}"`;

export async function startSentinelGroup(opts: SentinelOptions = {}): Promise<SentinelGroup> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-sentinel-'));
  const name = opts.name ?? 'mymaster';
  const auth = opts.auth;
  const all: ChildProcess[] = [];
  const data = new Map<number, ChildProcess>();
  const paused = new Set<number>();
  const stop = async () => {
    for (const port of paused) data.get(port)?.kill('SIGCONT');
    await Promise.all(all.map(stopPid));
    rmSync(dir, { recursive: true, force: true });
  };
  const tlsCli = opts.tls ? ['--tls', '--cacert', opts.tls.ca] : [];
  const dataCli = (port: number, ...a: string[]) => cli(port, ...tlsCli, ...(auth ? ['--user', auth.user, '--pass', auth.password, '--no-auth-warning'] : []), ...a);
  const sentinelCli = (port: number, ...a: string[]) => cli(port, ...tlsCli, ...(opts.sentinelPassword ? ['-a', opts.sentinelPassword, '--no-auth-warning'] : []), ...a);
  try {
    const ports: number[] = [];
    const nSentinels = opts.sentinels ?? 3;
    while (ports.length < 2 + nSentinels) {
      const p = await freePort();
      if (!ports.includes(p)) ports.push(p);
    }
    const [mPort, rPort, ...sPorts] = ports as [number, number, ...number[]];
    const startData = (port: number, replicaOf: number | null) => {
      const c = spawnServer(port, dir, [...authArgs(auth), ...tlsArgs(port, opts.tls).filter((_, i, a) => a[i] !== '--tls-cluster' && a[i - 1] !== '--tls-cluster'), ...(opts.serverArgs ?? []), ...(replicaOf ? ['--replicaof', '127.0.0.1', String(replicaOf)] : [])]);
      data.set(port, c);
      all.push(c);
    };
    startData(mPort, null);
    startData(rPort, mPort);
    for (const p of [mPort, rPort]) await waitUntil(`redis-server on ${p}`, async () => (await dataCli(p, 'PING')).trim() === 'PONG', 10_000);
    await waitUntil('the replica in sync', async () => (await dataCli(rPort, 'INFO', 'replication')).includes('master_link_status:up'), 20_000);

    for (const p of sPorts) {
      const conf = join(dir, `sentinel-${p}.conf`);
      const t = opts.tls;
      writeFileSync(conf, [
        ...(t ? ['port 0', `tls-port ${p}`, `tls-cert-file ${q(t.cert)}`, `tls-key-file ${q(t.key)}`, `tls-ca-cert-file ${q(t.ca)}`, 'tls-auth-clients no', 'tls-replication yes'] : [`port ${p}`]),
        'bind 127.0.0.1',
        `dir ${dir}`,
        `logfile ${join(dir, `sentinel-${p}.log`)}`,
        `sentinel monitor ${name} 127.0.0.1 ${mPort} ${Math.floor(nSentinels / 2) + 1}`,
        `sentinel down-after-milliseconds ${name} ${opts.downAfterMs ?? 1000}`,
        `sentinel failover-timeout ${name} 10000`,
        `sentinel parallel-syncs ${name} 1`,
        ...(auth ? [`sentinel auth-user ${name} ${q(auth.user)}`, `sentinel auth-pass ${name} ${q(auth.password)}`] : []),
        ...(opts.sentinelPassword ? [`requirepass ${q(opts.sentinelPassword)}`, `sentinel sentinel-pass ${q(opts.sentinelPassword)}`] : []),
        '',
      ].join('\n'));
      const c = spawn('redis-server', [conf, '--sentinel'], { stdio: 'ignore' });
      c.on('error', () => {});
      all.push(c);
    }
    for (const p of sPorts) await waitUntil(`sentinel on ${p}`, async () => (await sentinelCli(p, 'PING')).trim() === 'PONG', 10_000);
    // Every Sentinel knows the replica and the other Sentinels: a failover can be agreed on.
    if (nSentinels > 0) await waitUntil('sentinels to discover each other and the replica', async () => {
      for (const p of sPorts) {
        const out = await sentinelCli(p, 'SENTINEL', 'MASTER', name);
        const f = out.trim().split('\n');
        const get = (k: string) => f[f.indexOf(k) + 1];
        if (get('num-slaves') !== '1' || get('num-other-sentinels') !== String(nSentinels - 1)) return false;
      }
      return true;
    }, 30_000);

    const cred = auth ? `${encodeURIComponent(auth.user)}:${encodeURIComponent(auth.password)}@` : '';
    const query = opts.sentinelPassword ? `?sentinel_password=${encodeURIComponent(opts.sentinelPassword)}` : '';
    const isRunning = (port: number) => {
      const c = data.get(port)!;
      return c.exitCode === null && c.signalCode === null;
    };
    return {
      name,
      sentinelPorts: sPorts,
      url: `${opts.tls ? 'rediss' : 'redis'}+sentinel://${cred}${sPorts.map((p) => `127.0.0.1:${p}`).join(',')}/${name}${query}`,
      directUrl: `${opts.tls ? 'rediss' : 'redis'}://${cred}127.0.0.1:${mPort}`,
      dataPorts: [mPort, rPort],
      auth,
      cli: dataCli,
      async master() {
        for (const p of sPorts) {
          const out = await sentinelCli(p, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name).catch(() => '');
          const port = Number(out.trim().split('\n')[1]);
          if (port) return port;
        }
        throw new Error('no Sentinel answered');
      },
      running: isRunning,
      async kill(port: number) {
        const c = data.get(port)!;
        if (!isRunning(port)) return;
        const exited = new Promise<void>((r) => c.once('exit', () => r()));
        c.kill('SIGKILL');
        await exited;
      },
      async restart(port: number, replicaOf?: number) {
        startData(port, replicaOf ?? null);
        await waitUntil(`redis-server on ${port}`, async () => (await dataCli(port, 'PING')).trim() === 'PONG', 10_000);
      },
      pause(port: number) {
        paused.add(port);
        data.get(port)!.kill('SIGSTOP');
      },
      resume(port: number) {
        paused.delete(port);
        data.get(port)!.kill('SIGCONT');
      },
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
