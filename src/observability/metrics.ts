/**
 * Gatehouse's Prometheus metrics (prom-client). Off unless asked for: `createGatehouse({ metrics: true })`
 * in a library, `GATEHOUSE_METRICS_PORT` or `GATEHOUSE_METRICS_TOKEN` for `gatehouse serve`.
 *
 * Where the figures come from:
 * - the core's domain events through its Telemetry port (logins, registrations, refreshes, revocations,
 *   mail failures, revocation-feed lag);
 * - the instrumenting store decorator (operation latency, errors and timeouts per store and operation);
 * - the request authenticator (cache hits and misses) and the request observer (duration per route
 *   template, rate-limit blocks);
 * - values read at scrape time (feed trusted, mail queue depth) and the live-session count, sampled
 *   from the store at most once per interval, never per request.
 *
 * Labels are fixed categories: no user id, email, session id or raw path ever becomes a label.
 * The request path only bumps numbers in preallocated series (see light-histogram.ts).
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CoreDiagnostics } from '../core/auth.js';
import type { RefreshOutcome, Telemetry } from '../core/telemetry.js';
import type { AuditEvent, AuditEventType, ChangeEvent, SessionMode } from '../ports.js';
import { LightHistogram } from './light-histogram.js';
import type { OperationObserver, StoreFailure, StoreObserver } from './stores.js';

export interface MetricsOptions {
  /** Where the metrics register; a new Registry by default (`metrics.registry`). */
  registry?: Registry;
  /** How often at most the live sessions are counted in the store (ms). Default 60 s. */
  sessionSampleIntervalMs?: number;
}

/** What the metrics read at scrape time, bound once the runtime exists. */
export interface MetricSources {
  diagnostics(): Pick<CoreDiagnostics, 'revocationsTrusted'>;
  mailQueueDepth(): number;
  /** Live sessions per mode, counted in the store (absent: the gauge is not reported). */
  countSessions?(): Promise<Record<SessionMode, number>>;
}

export const STORE_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
export const HTTP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
export const FEED_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

type Detail = AuditEvent['detail'];

const num = (d: Detail, k: string): number => {
  const v = d?.[k];
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0;
};

/** The way in of a successful login, from its audit detail. */
function successMethod(d: Detail): string {
  if (d?.provider !== undefined) return 'oidc';
  if (d?.second_factor !== undefined) return 'mfa';
  if (d?.passkey !== undefined) return 'passkey';
  return 'password';
}

/** A failed login's result and way in, from its audit reason. */
function failure(d: Detail): [result: string, method: string] {
  const r = typeof d?.reason === 'string' ? d.reason : '';
  if (r === 'bad_password' || r === 'unknown_email' || r === 'bad_input') return ['invalid_credentials', 'password'];
  if (r === 'disabled') return ['disabled', 'password'];
  if (r === 'email_unverified') return ['email_unverified', 'password'];
  if (r.startsWith('passkey_')) return ['failed', 'passkey'];
  if (r.startsWith('oidc_')) return ['failed', 'oidc'];
  return ['failed', 'password'];
}

/** Sessions a bulk ending names in its detail, keyed by the event type (the revocation's cause). */
const REVOKING: Partial<Record<AuditEventType, [cause: string, countKey: string | null]>> = {
  logout: ['logout', null],
  'session.evicted': ['evicted', null],
  'sessions.revoked_others': ['logout_others', 'count'],
  'sessions.revoked_all': ['logout_all', 'count'],
  'refresh.reuse_detected': ['refresh_reuse', null],
  'password.changed': ['password_changed', 'sessions_ended'],
  'password.reset': ['password_reset', 'sessions_ended'],
  'email.change_requested': ['email_change', 'sessions_ended'],
  'mfa.reset': ['mfa_reset', 'sessions_ended'],
};

export class GatehouseMetrics implements Telemetry, StoreObserver {
  readonly registry: Registry;
  readonly logins: Counter<'result' | 'method'>;
  readonly registrations: Counter<'method'>;
  readonly refreshes: Counter<'result'>;
  readonly revocations: Counter<'cause'>;
  readonly storeDuration: LightHistogram;
  readonly storeErrors: Counter<'store' | 'operation' | 'kind'>;
  readonly feedLag: Histogram<'event'>;
  readonly rateLimitBlocks: Counter<'route'>;
  readonly mailFailures: Counter<'category' | 'final'>;
  readonly httpDuration: LightHistogram;
  /** Authentications decided from the caches / needing verification or the store: [cookie, bearer]. */
  readonly authHits = [0, 0];
  readonly authMisses = [0, 0];
  private sources: MetricSources | null = null;
  private readonly sampleEveryMs: number;
  private sessionsSample: { at: number; counts: Record<SessionMode, number> | null } = { at: -Infinity, counts: null };
  private sampling: Promise<void> | null = null;

  constructor(opts: MetricsOptions = {}) {
    const registers = [(this.registry = opts.registry ?? new Registry())];
    this.sampleEveryMs = opts.sessionSampleIntervalMs ?? 60_000;
    this.logins = new Counter({ name: 'gatehouse_logins_total', help: 'Login attempts by result and way in.', labelNames: ['result', 'method'], registers });
    this.registrations = new Counter({ name: 'gatehouse_registrations_total', help: 'Accounts created, by way in.', labelNames: ['method'], registers });
    this.refreshes = new Counter({ name: 'gatehouse_refreshes_total', help: 'Refresh-token rotations by result (reuse_detected ends the session).', labelNames: ['result'], registers });
    this.revocations = new Counter({ name: 'gatehouse_revoked_sessions_total', help: 'Sessions ended, by cause.', labelNames: ['cause'], registers });
    this.storeDuration = new LightHistogram('gatehouse_store_operation_duration_seconds', 'Store operation latency, by store and operation.', ['store', 'operation'], STORE_BUCKETS, this.registry);
    this.storeErrors = new Counter({ name: 'gatehouse_store_errors_total', help: 'Failed store operations, by store, operation and kind (timeout, unavailable, error).', labelNames: ['store', 'operation', 'kind'], registers });
    this.feedLag = new Histogram({ name: 'gatehouse_revocation_feed_lag_seconds', help: 'Time from an event being made on one instance to its live delivery on this one.', labelNames: ['event'], buckets: FEED_BUCKETS, registers });
    this.rateLimitBlocks = new Counter({ name: 'gatehouse_rate_limit_blocks_total', help: 'Requests refused by a rate limit (429), by route template.', labelNames: ['route'], registers });
    this.mailFailures = new Counter({ name: 'gatehouse_mail_failures_total', help: 'Failed mail deliveries, by category; final="true" when the message was given up.', labelNames: ['category', 'final'], registers });
    this.httpDuration = new LightHistogram('gatehouse_http_request_duration_seconds', 'HTTP request duration, by route template ("unmatched" for no route), method and status.', ['route', 'method', 'status'], HTTP_BUCKETS, this.registry);

    const self = this;
    const MODES = ['cookie', 'bearer'] as const;
    new Counter({
      name: 'gatehouse_auth_cache_lookups_total',
      help: 'Request authentications, by transport and whether the in-process caches decided them (hit) or verification or the store was needed (miss).',
      labelNames: ['transport', 'result'],
      registers,
      collect() {
        // The request path bumps plain numbers; they become the counter's value here, at scrape time.
        this.reset();
        MODES.forEach((t, i) => {
          this.inc({ transport: t, result: 'hit' }, self.authHits[i]!);
          this.inc({ transport: t, result: 'miss' }, self.authMisses[i]!);
        });
      },
    });
    new Gauge({
      name: 'gatehouse_revocation_feed_trusted',
      help: '1 while the revocation feed is live and replayed (caches are trusted), 0 while sessions are confirmed in the store.',
      registers,
      // Under `serve --workers`, the primary reports the least trusted worker.
      aggregator: 'min',
      collect() {
        if (self.sources) this.set(self.sources.diagnostics().revocationsTrusted ? 1 : 0);
      },
    });
    new Gauge({
      name: 'gatehouse_mail_queue_depth',
      help: 'Lifecycle mail queued, backing off or being sent.',
      registers,
      collect() {
        if (self.sources) this.set(self.sources.mailQueueDepth());
      },
    });
    new Gauge({
      name: 'gatehouse_active_sessions',
      help: 'Live sessions per mode (cookie session, token), counted in the store at most once per sampling interval.',
      labelNames: ['mode'],
      registers,
      // Every worker counts the same store.
      aggregator: 'max',
      async collect() {
        const counts = await self.sampledSessions();
        if (!counts) return;
        this.set({ mode: 'session' }, counts.session);
        this.set({ mode: 'token' }, counts.token);
      },
    });
  }

  /** Connects the scrape-time readings to the running core, outbox and store. */
  bind(sources: MetricSources): void {
    this.sources = sources;
  }

  /** The last sample of live sessions, refreshed when older than the interval (one count at a time). */
  private async sampledSessions(): Promise<Record<SessionMode, number> | null> {
    const src = this.sources;
    if (!src?.countSessions) return null;
    if (performance.now() - this.sessionsSample.at >= this.sampleEveryMs) {
      this.sampling ??= src
        .countSessions()
        .then(
          (counts) => void (this.sessionsSample = { at: performance.now(), counts }),
          // A store outage shows in the store metrics; the last known count stays, retried next scrape.
          () => undefined,
        )
        .finally(() => (this.sampling = null));
      await this.sampling;
    }
    return this.sessionsSample.counts;
  }

  // ------------------------------------------------------------------ Telemetry (the core's events)

  recorded(type: AuditEventType, d: Detail): void {
    switch (type) {
      case 'login.succeeded':
        this.logins.inc({ result: 'success', method: successMethod(d) });
        return;
      case 'session.migrated':
        this.logins.inc({ result: 'success', method: 'migration' });
        return;
      case 'login.failed': {
        const [result, method] = failure(d);
        this.logins.inc({ result, method });
        return;
      }
      case 'mfa.required':
        this.logins.inc({ result: 'mfa_required', method: 'password' });
        return;
      case 'mfa.failed':
        this.logins.inc({ result: 'mfa_failed', method: 'mfa' });
        return;
      case 'user.registered':
        this.registrations.inc({ method: d?.provider !== undefined ? 'oidc' : d?.by === 'operator' ? 'operator' : 'password' });
        return;
      case 'session.revoked':
        this.revocations.inc({ cause: d?.reason === 'backchannel_logout' ? 'backchannel_logout' : 'device_list' });
        return;
      case 'mail.failed':
        this.mailFailures.inc({ category: typeof d?.category === 'string' ? d.category : 'other', final: d?.final === true ? 'true' : 'false' });
        return;
    }
    const r = REVOKING[type];
    if (r) {
      const n = r[1] === null ? 1 : num(d, r[1]);
      if (n > 0) this.revocations.inc({ cause: r[0] }, n);
    }
  }

  refreshed(outcome: RefreshOutcome): void {
    this.refreshes.inc({ result: outcome });
  }

  feedDelivered(type: ChangeEvent['type'], lagMs: number): void {
    // Clocks of two instances may disagree by a little: a negative lag is no lag.
    this.feedLag.observe({ event: type }, Math.max(0, lagMs) / 1000);
  }

  // ------------------------------------------------------------------ StoreObserver

  operation(store: string, operation: string): OperationObserver {
    const series = this.storeDuration.child([store, operation]);
    const errors = this.storeErrors;
    return {
      done: (s) => series.observe(s),
      failed: (s, kind: StoreFailure) => {
        series.observe(s);
        errors.inc({ store, operation, kind });
      },
    };
  }

  // ------------------------------------------------------------------ exposition

  /** The text exposition and its content type. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
