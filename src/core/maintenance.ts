/**
 * The expired-row sweep: sessions, refresh tokens, one-time tokens, challenges and proof marks past
 * their expiry, and audit events past the retention. Runs in library use and in `gatehouse serve` alike (the composition root
 * starts it); stores that expire by TTL (Redis) report nothing to sweep. Sweeps never overlap, and a
 * failed one (store down) is reported and retried at the next tick.
 */
import type { Clock, Stores } from '../ports.js';
import type { Audit } from './audit.js';

export interface SweepResult {
  sessions: number;
  refreshTokens: number;
  oneTimeTokens: number;
  challenges: number;
  proofMarks: number;
  federatedSessions: number;
  auditEvents: number;
}

export class Sweeper {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<SweepResult | null> | null = null;

  constructor(
    private readonly stores: Pick<Stores, 'sessions' | 'refreshTokens' | 'oneTimeTokens' | 'challenges' | 'proofs' | 'identities'>,
    private readonly audit: Audit,
    private readonly clock: Clock,
    private readonly auditRetentionMs: number,
  ) {}

  /** One sweep now. */
  async runOnce(): Promise<SweepResult> {
    const now = this.clock.now();
    return {
      sessions: await this.stores.sessions.deleteExpiredSessions(now),
      refreshTokens: await this.stores.refreshTokens.deleteExpiredRefreshTokens(now),
      oneTimeTokens: await this.stores.oneTimeTokens.deleteExpiredOneTimeTokens(now),
      challenges: await this.stores.challenges.deleteExpiredChallenges(now),
      proofMarks: await this.stores.proofs.deleteExpiredProofMarks(now),
      federatedSessions: await this.stores.identities.deleteExpiredFederatedSessions(now),
      auditEvents: await this.audit.prune(this.auditRetentionMs),
    };
  }

  /** Sweeps every `intervalMs` until `stop()`; results and failures go to the callbacks. */
  start(intervalMs: number, report: { done(r: SweepResult): void; failed(e: unknown): void }): void {
    if (!(intervalMs > 0)) throw new TypeError('the sweep interval must be positive');
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.runOnce().then(
        (r) => (report.done(r), r),
        (e: unknown) => (report.failed(e), null),
      );
      void this.running.finally(() => (this.running = null));
    }, intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and waits for a sweep in progress. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }
}
