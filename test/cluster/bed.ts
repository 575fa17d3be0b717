/**
 * The cluster test bed: nginx as a round-robin load balancer on a loopback port, three Gatehouse
 * server processes behind it sharing one PostgreSQL schema and one Redis key prefix, and a private
 * redis-server (on its own port, with an append-only file) that the checks may kill and restart —
 * or, for the failover beds, a Redis deployment the caller started (Sentinel, Cluster) by its URL.
 *
 * The bed installs nothing: nginx, redis-server and PostgreSQL must be there (`.ci/run` installs
 * nginx). Under CI=true a missing one fails with a message; outside CI the caller skips with it.
 * Everything started here is stopped by pid (SIGTERM, then SIGKILL); the schema and keys are dropped.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, openSync, closeSync, chmodSync } from 'node:fs';
import { request, Agent } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import pg from 'pg';
import { dropSchema, pingRedis, requirePostgres, testPrefix, testSchema } from '../support/services.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const NGINX_EXAMPLE = join(ROOT, 'docs/examples/nginx.conf');
const SECRET = 'cluster-bed-secret-0123456789abcdef0123456789';

// ---------------------------------------------------------------------------------------------
// Tools

export function findBinary(name: string, extra: string[] = []): string | null {
  for (const p of [...extra, `/usr/sbin/${name}`, `/usr/bin/${name}`, `/usr/local/bin/${name}`, `/usr/local/sbin/${name}`]) if (existsSync(p)) return p;
  const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() ? r.stdout.trim() : null;
}

/** Null when everything is there; otherwise the reason. Under CI=true a reason throws. */
export async function bedPrerequisites(): Promise<string | null> {
  const missing: string[] = [];
  if (!findBinary('nginx')) missing.push('nginx (apt-get install -y nginx)');
  if (!findBinary('redis-server')) missing.push('redis-server (apt-get install -y redis-server)');
  let pgUrl: string | null = null;
  try {
    pgUrl = await requirePostgres();
  } catch (e) {
    missing.push((e as Error).message);
  }
  if (!pgUrl && !missing.some((m) => m.startsWith('PostgreSQL'))) missing.push('PostgreSQL at 127.0.0.1:5432');
  if (missing.length === 0) return null;
  const reason = `the cluster bed needs: ${missing.join('; ')}`;
  if (process.env.CI === 'true') throw new Error(`${reason} (required under CI=true)`);
  return `${reason} (set CI=true to make this a failure)`;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits for `check` to resolve true, polling every `everyMs`, at most `timeoutMs`. */
export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 20_000, everyMs = 50): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** Sends SIGTERM, waits up to `graceMs`, then SIGKILL. Resolves once the process has exited. */
export async function stopProcess(child: ChildProcess, graceMs = 10_000, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  try {
    process.kill(child.pid!, signal);
  } catch {
    return;
  }
  const t = setTimeout(() => {
    try {
      process.kill(child.pid!, 'SIGKILL');
    } catch {
      // gone already
    }
  }, graceMs);
  await exited;
  clearTimeout(t);
}

// ---------------------------------------------------------------------------------------------
// HTTP client: every request has a timeout and reports it rather than hanging.

export interface Res {
  status: number; // 0: no answer (connection error); -1: client timeout
  headers: Record<string, string | string[] | undefined>;
  body: string;
  ms: number;
}

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

export function http(url: string, opts: { method?: string; headers?: Record<string, string>; body?: unknown; timeoutMs?: number } = {}): Promise<Res> {
  const start = performance.now();
  return new Promise((resolve) => {
    const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(Buffer.byteLength(body));
    }
    let done = false;
    const finish = (r: Omit<Res, 'ms'>) => {
      if (done) return;
      done = true;
      resolve({ ...r, ms: performance.now() - start });
    };
    const req = request(url, { method: opts.method ?? 'GET', headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => finish({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', () => finish({ status: 0, headers: {}, body: '' }));
    });
    req.setTimeout(opts.timeoutMs ?? 5000, () => {
      finish({ status: -1, headers: {}, body: '' });
      req.destroy();
    });
    req.on('error', () => finish({ status: 0, headers: {}, body: '' }));
    req.end(body);
  });
}

export function json<T = Record<string, unknown>>(r: Res): T {
  return JSON.parse(r.body) as T;
}

/** A signed-in identity: a cookie session and an access token of one user (two sessions). */
export interface Identity {
  email: string;
  cookie: string; // `name=value`
  cookieSessionId: string;
  token: string;
  tokenSessionId: string;
}

// ---------------------------------------------------------------------------------------------
// The bed

export interface Instance {
  name: string;
  port: number;
  url: string;
  redisUser: string;
  child: ChildProcess | null;
  log: string;
}

export interface Bed {
  dir: string;
  nginxUrl: string;
  nginxPort: number;
  instances: Instance[];
  /** The private Redis's port (0 with an external Redis). */
  redisPort: number;
  /** GATEHOUSE_REDIS_URL of the CLI and of extra instances (each bed instance may have its own user). */
  redisUrl: string;
  schema: string;
  prefix: string;
  pgUrl: string;
  env: Record<string, string>;
  /** The server command (argv) this bed runs: built dist/ when fresh, else the sources through tsx. */
  command: string[];
  startInstance(i: Instance): Promise<void>;
  stopInstance(i: Instance, signal?: NodeJS.Signals): Promise<void>;
  /** Starts one more instance, not behind nginx, with extra environment (stopped with the bed). */
  startExtraInstance(name: string, env: Record<string, string>): Promise<Instance>;
  killRedis(): Promise<void>;
  startRedis(): Promise<void>;
  /** An admin connection to the private Redis (as the default user). */
  admin(): Redis;
  query<T extends pg.QueryResultRow = pg.QueryResultRow>(sql: string): Promise<T[]>;
  /** Runs `gatehouse <args>` against the bed's database and Redis; resolves its exit code and output. */
  cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }>;
  register(email: string, via?: string): Promise<void>;
  signIn(email: string, via?: string): Promise<Identity>;
  stop(): Promise<void>;
}

function newestMtime(dir: string): number {
  let max = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    max = Math.max(max, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return max;
}

/** dist/ when it is at least as new as src/ (CI builds first); otherwise run from source. */
export function serverCommand(): string[] {
  const dist = join(ROOT, 'dist/server/cli.js');
  if (existsSync(dist) && newestMtime(join(ROOT, 'dist')) >= newestMtime(join(ROOT, 'src'))) return [process.execPath, join(ROOT, 'bin/gatehouse.js')];
  return [process.execPath, '--import', 'tsx', join(ROOT, 'src/server/cli-main.ts')];
}

/**
 * The example nginx config with the bed's ports: the upstream servers become the three instances,
 * the TLS listener a plain loopback listener (TLS termination is nginx's own business and needs a
 * certificate). Each substitution must match, so a change to the example that the bed no longer
 * understands fails here instead of testing something else.
 */
export function nginxSiteFromExample(example: string, listenPort: number, upstreamPorts: number[]): string {
  let out = example;
  const replaceOnce = (re: RegExp, by: string, what: string) => {
    const n = (out.match(new RegExp(re.source, re.flags.includes('g') ? re.flags : re.flags + 'g')) ?? []).length;
    if (n !== 1) throw new Error(`docs/examples/nginx.conf: expected exactly one ${what}, found ${n}`);
    out = out.replace(re, by);
  };
  replaceOnce(/^([ \t]*)# upstreams:begin\n[\s\S]*?^[ \t]*# upstreams:end\n/m, upstreamPorts.map((p) => `    server 127.0.0.1:${p} max_fails=1 fail_timeout=2s;\n`).join(''), 'upstreams:begin … upstreams:end block');
  replaceOnce(/^[ \t]*# tls:begin\n[\s\S]*?^[ \t]*# tls:end\n/m, `    listen 127.0.0.1:${listenPort};\n`, 'tls:begin … tls:end block');
  replaceOnce(/^# redirect:begin\n[\s\S]*?^# redirect:end\n/m, '', 'redirect:begin … redirect:end block');
  return out;
}

export function nginxMainConf(dir: string): string {
  return [
    'daemon off;',
    'master_process on;',
    'worker_processes 1;',
    `pid ${dir}/nginx.pid;`,
    `error_log ${dir}/error.log warn;`,
    'events { worker_connections 1024; }',
    'http {',
    '  access_log off;',
    `  client_body_temp_path ${dir}/client_body;`,
    `  proxy_temp_path ${dir}/proxy;`,
    `  fastcgi_temp_path ${dir}/fastcgi;`,
    `  uwsgi_temp_path ${dir}/uwsgi;`,
    `  scgi_temp_path ${dir}/scgi;`,
    `  include ${dir}/gatehouse-site.conf;`,
    '}',
    '',
  ].join('\n');
}

export interface BedOptions {
  log?: (line: string) => void;
  /** An external Redis (a Sentinel or Cluster URL): no private redis-server is started. */
  redisUrl?: string;
  /** Extra environment for every instance and the CLI. */
  env?: Record<string, string>;
}

export async function startBed(opts: BedOptions = {}): Promise<Bed> {
  const log = opts.log ?? (() => {});
  const external = opts.redisUrl ?? null;
  const pgUrl = (await requirePostgres())!;
  const nginxBin = findBinary('nginx')!;
  const redisBin = findBinary('redis-server')!;
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-cluster-'));
  chmodSync(dir, 0o755);
  const schema = testSchema();
  const prefix = testPrefix();
  const children: ChildProcess[] = [];
  const command = serverCommand();
  log(`server command: ${command.slice(1).join(' ')}`);

  // Private Redis: its own port and append-only file (fsync always), so a SIGKILL loses nothing
  // acknowledged. One ACL user per instance lets a check cut exactly one instance's links.
  const redisPort = external ? 0 : await freePort();
  const names = ['a', 'b', 'c'];
  const redisArgs = [
    '--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--appendfsync', 'always',
    '--dir', dir, '--logfile', join(dir, 'redis.log'), '--daemonize', 'no',
    '--user', 'default', 'on', 'nopass', '~*', '&*', '+@all',
    ...names.flatMap((n) => ['--user', `gh_${n}`, 'on', `>pw-${n}`, '~*', '&*', '+@all']),
  ];
  let redis: ChildProcess | null = null;
  const startRedis = async () => {
    if (external) throw new Error('the bed runs on an external Redis: start and stop it there');
    redis = spawn(redisBin, redisArgs, { stdio: 'ignore' });
    children.push(redis);
    await waitFor('redis-server', async () => (await pingRedis('127.0.0.1', redisPort, 500).then(() => true)), 10_000);
  };

  let pool: pg.Pool | null = null;
  const admins: Redis[] = [];
  const instances: Instance[] = [];
  let nginx: ChildProcess | null = null;

  const extras: Instance[] = [];
  const stop = async () => {
    await Promise.all([...instances, ...extras].map((i) => (i.child ? stopProcess(i.child, 10_000) : null)));
    if (nginx) await stopProcess(nginx, 5000);
    for (const a of admins) a.disconnect();
    if (redis) await stopProcess(redis, 5000);
    await pool?.end().catch(() => {});
    await dropSchema(pgUrl, schema).catch((e) => log(`drop schema ${schema}: ${(e as Error).message}`));
    // The private Redis (and its append-only file) goes with the directory: its keys are gone.
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    if (process.env.GATEHOUSE_CLUSTER_KEEP !== '1') rmSync(dir, { recursive: true, force: true });
  };

  try {
    if (!external) await startRedis();
    const nginxPort = await freePort();
    const ports = [await freePort(), await freePort(), await freePort()];
    const nginxUrl = `http://127.0.0.1:${nginxPort}`;
    const env: Record<string, string> = {
      GATEHOUSE_HOST: '127.0.0.1',
      GATEHOUSE_DATABASE_URL: pgUrl,
      GATEHOUSE_DATABASE_SCHEMA: schema,
      GATEHOUSE_REDIS_PREFIX: prefix,
      GATEHOUSE_SECRET: SECRET,
      GATEHOUSE_PUBLIC_URL: `http://localhost:${nginxPort}`,
      GATEHOUSE_TRUST_PROXY: 'loopback',
      GATEHOUSE_UNSAFE_WEAK_PASSWORD_HASHING: 'true',
      GATEHOUSE_PASSWORD_HASH_MEMORY: '1024',
      GATEHOUSE_PASSWORD_HASH_TIME: '1',
      GATEHOUSE_RATE_LIMITS: 'off',
      GATEHOUSE_STORE_TIMEOUT: '500ms',
      GATEHOUSE_LOG_LEVEL: 'warn',
      ...(opts.env ?? {}),
    };
    const sharedRedisUrl = external ?? `redis://127.0.0.1:${redisPort}`;
    for (const [k, n] of names.entries()) {
      instances.push({ name: n, port: ports[k]!, url: `http://127.0.0.1:${ports[k]}`, redisUser: `gh_${n}`, child: null, log: join(dir, `gatehouse-${n}.log`) });
    }
    const baseEnv = () => {
      const e: Record<string, string> = {};
      for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('GATEHOUSE_')) e[k] = v;
      delete e.NODE_TEST_CONTEXT;
      delete e.NODE_OPTIONS;
      return e;
    };
    const extraEnv = new Map<Instance, Record<string, string>>();
    const instanceEnv = (i: Instance) => ({
      ...baseEnv(),
      ...env,
      PORT: String(i.port),
      GATEHOUSE_REDIS_URL: external ?? `redis://${i.redisUser}:pw-${i.name}@127.0.0.1:${redisPort}`,
      ...(extraEnv.get(i) ?? {}),
    });
    const startInstance = async (i: Instance) => {
      const fd = openSync(i.log, 'a');
      const child = spawn(command[0]!, [...command.slice(1), 'serve'], { cwd: ROOT, env: instanceEnv(i), stdio: ['ignore', fd, fd] });
      closeSync(fd);
      children.push(child);
      i.child = child;
      let exited = false;
      child.once('exit', () => (exited = true));
      await waitFor(`instance ${i.name} on port ${i.port} (log: ${i.log})`, async () => {
        if (exited) throw new Error(`instance ${i.name} exited at start: ${readFileSync(i.log, 'utf8').slice(-2000)}`);
        return (await http(`${i.url}/healthz`, { timeoutMs: 1000 })).status === 200;
      }, 30_000, 100).catch((e) => {
        if (exited) throw new Error(`instance ${i.name} exited at start: ${readFileSync(i.log, 'utf8').slice(-2000)}`);
        throw e;
      });
    };
    const stopInstance = async (i: Instance, signal: NodeJS.Signals = 'SIGTERM') => {
      if (i.child) await stopProcess(i.child, 15_000, signal);
      i.child = null;
    };
    // One at a time: the first creates the schema and the signing key, the others find them.
    for (const i of instances) await startInstance(i);

    writeFileSync(join(dir, 'gatehouse-site.conf'), nginxSiteFromExample(readFileSync(NGINX_EXAMPLE, 'utf8'), nginxPort, ports));
    writeFileSync(join(dir, 'nginx.conf'), nginxMainConf(dir));
    const t = spawnSync(nginxBin, ['-t', '-c', join(dir, 'nginx.conf'), '-p', dir], { encoding: 'utf8' });
    if (t.status !== 0) throw new Error(`nginx -t refused the bed's config: ${t.stderr}`);
    nginx = spawn(nginxBin, ['-c', join(dir, 'nginx.conf'), '-p', dir], { stdio: 'ignore' });
    children.push(nginx);
    await waitFor('nginx', async () => (await http(`${nginxUrl}/healthz`, { timeoutMs: 1000 })).status === 200, 10_000);

    pool = new pg.Pool({ connectionString: pgUrl, max: 2 });
    pool.on('error', () => {});

    const bed: Bed = {
      dir,
      nginxUrl,
      nginxPort,
      instances,
      redisPort,
      redisUrl: sharedRedisUrl,
      schema,
      prefix,
      pgUrl,
      env,
      command,
      startInstance,
      stopInstance,
      async startExtraInstance(name, extra) {
        const i: Instance = { name, port: await freePort(), url: '', redisUser: 'default', child: null, log: join(dir, `gatehouse-${name}.log`) };
        i.url = `http://127.0.0.1:${i.port}`;
        extraEnv.set(i, { GATEHOUSE_REDIS_URL: sharedRedisUrl, ...extra });
        extras.push(i);
        await startInstance(i);
        return i;
      },
      async killRedis() {
        if (redis) await stopProcess(redis, 1000, 'SIGKILL');
        redis = null;
      },
      startRedis,
      admin() {
        if (external) throw new Error('the bed runs on an external Redis: connect to it there');
        const a = new Redis({ host: '127.0.0.1', port: redisPort, maxRetriesPerRequest: 1, commandTimeout: 2000 });
        a.on('error', () => {});
        admins.push(a);
        return a;
      },
      async query<T extends pg.QueryResultRow>(sql: string) {
        return (await pool!.query<T>(sql.replaceAll('$schema', `"${schema}"`))).rows;
      },
      cli(args) {
        return new Promise((resolve) => {
          const child = spawn(command[0]!, [...command.slice(1), ...args], {
            cwd: ROOT,
            env: { ...baseEnv(), ...env, GATEHOUSE_REDIS_URL: sharedRedisUrl },
            stdio: ['ignore', 'pipe', 'pipe'],
          });
          children.push(child);
          let stdout = '';
          let stderr = '';
          child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
          child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
          const t = setTimeout(() => child.kill('SIGKILL'), 30_000);
          child.on('exit', (code) => {
            clearTimeout(t);
            resolve({ code, stdout, stderr });
          });
        });
      },
      async register(email, via = nginxUrl) {
        const r = await http(`${via}/auth/register`, { method: 'POST', body: { email, password: PASSWORD } });
        if (r.status !== 201) throw new Error(`register ${email}: ${r.status} ${r.body}`);
      },
      async signIn(email, via = nginxUrl) {
        const c = await http(`${via}/auth/login`, { method: 'POST', body: { email, password: PASSWORD } });
        if (c.status !== 200) throw new Error(`cookie login ${email}: ${c.status} ${c.body}`);
        const set = ([] as string[]).concat(c.headers['set-cookie'] ?? []).find((s) => s.startsWith('__Host-gatehouse='));
        if (!set) throw new Error('no session cookie set');
        const t = await http(`${via}/auth/login`, { method: 'POST', body: { email, password: PASSWORD, mode: 'token' } });
        if (t.status !== 200) throw new Error(`token login ${email}: ${t.status} ${t.body}`);
        const tb = json<{ access_token: string; session: { id: string } }>(t);
        return {
          email,
          cookie: set.split(';')[0]!,
          cookieSessionId: json<{ session: { id: string } }>(c).session.id,
          token: tb.access_token,
          tokenSessionId: tb.session.id,
        };
      },
      stop,
    };
    return bed;
  } catch (e) {
    await stop();
    throw e;
  }
}

export const PASSWORD = 'cluster bed password 7f3a';

export function cookieHeaders(id: Identity): Record<string, string> {
  return { cookie: id.cookie };
}
export function bearerHeaders(id: Identity): Record<string, string> {
  return { authorization: `Bearer ${id.token}` };
}

/** Percentile (nearest rank) of sorted numbers. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export function writeResult(name: string, data: unknown): string {
  const d = join(ROOT, 'test-results/cluster');
  spawnSync('mkdir', ['-p', d]);
  const p = join(d, name);
  writeFileSync(p, JSON.stringify(data, null, 2) + '\n');
  return p;
}

/** Counts of each status seen (`timeout` for a client timeout, `no-answer` for a connection error). */
export class StatusCounts {
  readonly counts: Record<string, number> = {};
  add(status: number): void {
    const k = status === -1 ? 'timeout' : status === 0 ? 'no-answer' : String(status);
    this.counts[k] = (this.counts[k] ?? 0) + 1;
  }
  get(k: string | number): number {
    return this.counts[String(k)] ?? 0;
  }
  total(): number {
    return Object.values(this.counts).reduce((a, b) => a + b, 0);
  }
  count(pred: (status: string) => boolean): number {
    return Object.entries(this.counts).filter(([k]) => pred(k)).reduce((a, [, v]) => a + v, 0);
  }
}
