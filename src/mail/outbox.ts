/**
 * The outbox: an in-process queue between the lifecycle flows and the Mailer. `enqueue` returns at
 * once, so an HTTP request never waits for (or fails with) SMTP. A failed send is retried with
 * exponential backoff and jitter up to `maxAttempts`; every failure is reported (the audit trail
 * records it as `mail.failed`) with a category — never the message, whose link holds a token.
 *
 * The queue lives in memory: messages still waiting when the process stops are lost, and a new
 * link can be requested. The bound on queued messages keeps a flood from growing memory without end.
 */
import type { LifecycleMail, MailQueue } from '../core/lifecycle.js';
import type { Mailer, MailMessage } from '../ports.js';

export type MailFailureCategory = 'connection' | 'timeout' | 'auth' | 'tls' | 'rejected' | 'temporary' | 'queue_full' | 'other';

export interface MailFailure {
  kind: LifecycleMail['kind'];
  attempt: number;
  category: MailFailureCategory;
  /** No further attempt will be made. */
  final: boolean;
}

export interface OutboxOptions {
  mailer: Mailer;
  render(mail: LifecycleMail): MailMessage;
  maxAttempts: number;
  /** Delay before the second attempt; doubles each time (with jitter), capped at `maxDelayMs`. */
  baseDelayMs: number;
  maxDelayMs?: number;
  /** Messages being sent at once. */
  concurrency?: number;
  /** Messages waiting (queued or backing off) beyond which new ones are refused. */
  maxPending?: number;
  onFailure(mail: LifecycleMail, failure: MailFailure): void | Promise<void>;
  onDelivered?(mail: LifecycleMail, attempt: number): void;
  /** A number in [0, 1) spreading retries apart (default Math.random). */
  jitter?: () => number;
}

interface Job {
  mail: LifecycleMail;
  attempt: number;
}

/** Sorts a delivery error into a category that says what to fix, without its text. */
export function categorize(e: unknown): { category: MailFailureCategory; permanent: boolean } {
  const err = e as { code?: unknown; responseCode?: unknown } | null;
  const code = typeof err?.code === 'string' ? err.code : '';
  const rc = typeof err?.responseCode === 'number' ? err.responseCode : 0;
  // Before the reply code: a server answering STARTTLS with 5xx is a TLS problem to fix, not a refused message.
  if (code === 'ETLS') return { category: 'tls', permanent: false };
  if (rc >= 500 && rc < 600) return { category: code === 'EAUTH' ? 'auth' : 'rejected', permanent: true };
  if (rc >= 400 && rc < 500) return { category: 'temporary', permanent: false };
  if (code === 'EAUTH') return { category: 'auth', permanent: false };
  if (code === 'ETIMEDOUT') return { category: 'timeout', permanent: false };
  if (['ECONNECTION', 'ESOCKET', 'EDNS', 'ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENOTFOUND'].includes(code)) return { category: 'connection', permanent: false };
  return { category: 'other', permanent: false };
}

export class Outbox implements MailQueue {
  private readonly queue: Job[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private active = 0;
  private closed = false;
  private idleWaiters: Array<() => void> = [];
  private readonly concurrency: number;
  private readonly maxPending: number;
  private readonly maxDelayMs: number;

  constructor(private readonly opts: OutboxOptions) {
    this.concurrency = opts.concurrency ?? 2;
    this.maxPending = opts.maxPending ?? 10_000;
    this.maxDelayMs = opts.maxDelayMs ?? 15 * 60_000;
  }

  /** Messages queued, backing off or being sent. */
  get pending(): number {
    return this.queue.length + this.timers.size + this.active;
  }

  enqueue(mail: LifecycleMail): void {
    if (this.closed || this.pending >= this.maxPending) {
      void this.report(mail, { kind: mail.kind, attempt: 0, category: 'queue_full', final: true });
      return;
    }
    this.queue.push({ mail, attempt: 0 });
    // Rendering and the first send start after the current request has been answered.
    setImmediate(() => this.pump());
  }

  /** Resolves once nothing is queued, backing off or in flight. */
  idle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops retrying, waits up to `graceMs` for sends in flight; resolves how many messages were dropped. */
  async close(graceMs = 5000): Promise<number> {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    const dropped = this.timers.size + this.queue.length;
    this.timers.clear();
    this.queue.length = 0;
    if (this.active > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.idle(), new Promise<void>((r) => (timer = setTimeout(r, graceMs).unref()))]);
      clearTimeout(timer);
    }
    this.settle();
    return dropped;
  }

  private pump(): void {
    while (!this.closed && this.active < this.concurrency && this.queue.length > 0) {
      const job = this.queue.shift()!;
      this.active++;
      void this.attempt(job).finally(() => {
        this.active--;
        this.pump();
        this.settle();
      });
    }
    this.settle();
  }

  private settle(): void {
    if (this.pending !== 0 || this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private async attempt(job: Job): Promise<void> {
    job.attempt++;
    try {
      await this.opts.mailer.send(this.opts.render(job.mail));
      this.opts.onDelivered?.(job.mail, job.attempt);
      return;
    } catch (e) {
      const { category, permanent } = categorize(e);
      const final = permanent || job.attempt >= this.opts.maxAttempts || this.closed;
      await this.report(job.mail, { kind: job.mail.kind, attempt: job.attempt, category, final });
      if (final) return;
      const exp = Math.min(this.maxDelayMs, this.opts.baseDelayMs * 2 ** (job.attempt - 1));
      const delay = Math.round(exp * (0.5 + (this.opts.jitter ?? Math.random)() * 0.5));
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.queue.push(job);
        this.pump();
      }, delay);
      timer.unref();
      this.timers.add(timer);
    }
  }

  private async report(mail: LifecycleMail, failure: MailFailure): Promise<void> {
    try {
      await this.opts.onFailure(mail, failure);
    } catch {
      // Reporting is best effort; it must never take the queue down.
    }
  }
}
