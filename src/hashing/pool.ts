/**
 * argon2id in a small pool of low-priority threads, with admission control: a PasswordHashEngine the
 * composition root injects into the core (src/compose.ts).
 *
 * Why a child process: the `argon2` package runs every hash on libuv's thread pool, which belongs to
 * the whole process. On Linux a nice value belongs to a thread (`os.setPriority(0, 19)` in a worker
 * thread renices that thread only — checked), so niceing a worker thread would leave the hashing
 * itself at normal priority beside the event loop. A helper process that renices its main thread
 * before its thread pool exists gets pool threads that inherit nice 19 (checked in /proc/<pid>/task),
 * and it holds exactly `threads` of them (UV_THREADPOOL_SIZE). Under CPU contention the scheduler
 * then gives the event loop ~98 % of a shared core (CFS weights 1024 : 15), and hashing what is left.
 *
 * Admission control: at most `threads` jobs are in the helper at once; the rest wait here. A new job
 * whose expected wait — the jobs ahead of it, divided among the threads, times the recent hash time —
 * exceeds `maxWaitMs` is refused at once with `password_hashing_busy` (503 with Retry-After) instead of
 * queueing for seconds while the client times out. Verifications and new hashes share one queue, and
 * the decision depends on nothing but the queue, so a refusal does not tell whether an account exists.
 *
 * The helper is started on the first job, not kept alive by the pool when idle, restarted after a
 * crash (the jobs it held fail with 503), and stopped by `close()`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { GatehouseError } from '../errors.js';
import type { Argon2Cost, PasswordHashEngine } from '../ports.js';

export interface HashPoolOptions {
  /** Hashing threads in the helper process. */
  threads: number;
  /** Refuse a job that would wait longer than this to start. */
  maxWaitMs: number;
  /** Nice value of the hashing threads (0–19; 19 is the lowest priority). Default 19. */
  nice?: number;
  /** Hash time assumed before the first one is measured. Default 50 ms. */
  initialHashMs?: number;
  /** Time source for the hash-time estimate (tests). Default performance.now. */
  now?: () => number;
}

/** Runs in the helper: renice first (the thread pool, created later, inherits it), then hash on request. */
const HELPER = `
const os = require('node:os');
try { os.setPriority(Number(process.env.GATEHOUSE_HASH_NICE)); } catch {}
const argon2 = require(process.env.GATEHOUSE_ARGON2_PATH);
process.on('message', (m) => {
  const p = m.op === 'hash' ? argon2.hash(m.password, { type: argon2.argon2id, ...m.cost }) : argon2.verify(m.encoded, m.password);
  p.then((r) => process.send({ id: m.id, ok: true, r }), (e) => process.send({ id: m.id, ok: false, e: String((e && e.message) || e) }));
});
process.on('disconnect', () => process.exit(0));
process.send({ ready: true });
`;

type Job = { op: 'hash'; password: string; cost: Argon2Cost } | { op: 'verify'; encoded: string; password: string };
interface Pending {
  job: Job;
  resolve(v: unknown): void;
  reject(e: unknown): void;
  startedAt?: number;
}
type Reply = { ready: true } | { id: number; ok: true; r: unknown } | { id: number; ok: false; e: string };

/** Weight of the newest hash time in the running estimate. */
const EWMA = 0.2;

export class HashPool implements PasswordHashEngine {
  readonly #threads: number;
  readonly #maxWaitMs: number;
  readonly #nice: number;
  readonly #now: () => number;
  #hashMs: number;
  #child: ChildProcess | null = null;
  #ready = false;
  #closed = false;
  #nextId = 1;
  readonly #queue: Pending[] = [];
  readonly #running = new Map<number, Pending>();
  #refused = 0;

  constructor(opts: HashPoolOptions) {
    if (!Number.isInteger(opts.threads) || opts.threads < 1) throw new TypeError('HashPool: threads must be a positive integer');
    if (!(opts.maxWaitMs >= 0)) throw new TypeError('HashPool: maxWaitMs must be ≥ 0');
    this.#threads = opts.threads;
    this.#maxWaitMs = opts.maxWaitMs;
    this.#nice = opts.nice ?? 19;
    this.#hashMs = opts.initialHashMs ?? 50;
    this.#now = opts.now ?? (() => performance.now());
  }

  /** The helper's process id while it runs (tests read its threads' priorities in /proc). */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Jobs waiting and running, the hash-time estimate, and refusals so far (for metrics and tests). */
  get stats(): { queued: number; running: number; hashMs: number; refused: number } {
    return { queued: this.#queue.length, running: this.#running.size, hashMs: this.#hashMs, refused: this.#refused };
  }

  hash(password: string, cost: Argon2Cost): Promise<string> {
    return this.#submit({ op: 'hash', password, cost }) as Promise<string>;
  }

  verify(encoded: string, password: string): Promise<boolean> {
    return this.#submit({ op: 'verify', encoded, password }) as Promise<boolean>;
  }

  /** Stops the helper; jobs not finished fail. */
  async close(): Promise<void> {
    this.#closed = true;
    const gone = new Error('password hashing pool closed');
    for (const p of this.#queue.splice(0)) p.reject(gone);
    for (const p of this.#running.values()) p.reject(gone);
    this.#running.clear();
    const child = this.#child;
    this.#child = null;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(timer);
    }
  }

  /** Expected wait before a new job starts: nothing while a thread is free. */
  expectedWaitMs(): number {
    const ahead = this.#running.size + this.#queue.length;
    if (ahead < this.#threads) return 0;
    return Math.ceil((ahead - this.#threads + 1) / this.#threads) * this.#hashMs;
  }

  #submit(job: Job): Promise<unknown> {
    if (this.#closed) return Promise.reject(new Error('password hashing pool closed'));
    const wait = this.expectedWaitMs();
    if (wait > this.#maxWaitMs) {
      this.#refused += 1;
      return Promise.reject(new GatehouseError('password_hashing_busy', 'password hashing queue full', { retryAfter: Math.max(1, Math.ceil(wait / 1000)) }));
    }
    return new Promise((resolve, reject) => {
      this.#queue.push({ job, resolve, reject });
      this.#pump();
    });
  }

  #pump(): void {
    const child = this.#child ?? this.#start();
    if (!this.#ready) return;
    while (this.#running.size < this.#threads && this.#queue.length > 0) {
      const p = this.#queue.shift()!;
      const id = this.#nextId++;
      p.startedAt = this.#now();
      this.#running.set(id, p);
      child.send({ id, ...p.job });
    }
    // Only work in flight keeps the process alive; an idle helper never holds it open.
    if (this.#running.size > 0) {
      child.ref();
      child.channel?.ref();
    } else {
      child.unref();
      child.channel?.unref();
    }
  }

  #start(): ChildProcess {
    const argon2Path = createRequire(import.meta.url).resolve('argon2');
    // `-e` keeps the helper independent of how this module is loaded (TypeScript source or dist/).
    // Its environment holds nothing but its own settings: no secret of the server's reaches it.
    const child = spawn(process.execPath, ['-e', HELPER], {
      env: { UV_THREADPOOL_SIZE: String(this.#threads), GATEHOUSE_ARGON2_PATH: argon2Path, GATEHOUSE_HASH_NICE: String(this.#nice) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'advanced',
    });
    this.#child = child;
    this.#ready = false;
    child.on('message', (m: Reply) => {
      if ('ready' in m) {
        this.#ready = true;
        return this.#pump();
      }
      const p = this.#running.get(m.id);
      if (!p) return;
      this.#running.delete(m.id);
      if (m.ok) {
        this.#hashMs = (1 - EWMA) * this.#hashMs + EWMA * (this.#now() - p.startedAt!);
        p.resolve(m.r);
      } else p.reject(new Error(m.e));
      this.#pump();
    });
    child.once('exit', () => {
      if (this.#child !== child) return;
      this.#child = null;
      this.#ready = false;
      // The jobs it held are lost: an outage for those requests, not a wrong password.
      for (const p of this.#running.values()) p.reject(new GatehouseError('password_hashing_busy', 'password hashing process exited', { retryAfter: 1 }));
      this.#running.clear();
      if (this.#queue.length > 0 && !this.#closed) this.#pump();
    });
    child.on('error', () => {});
    return child;
  }
}
