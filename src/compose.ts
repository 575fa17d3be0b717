/**
 * The composition root every adapter and the standalone server go through: from a validated config
 * it opens the stores (unless given), the rate-limit counters' Redis connection, the mailer and its
 * outbox, the express-session migration's source, builds the core, starts its revocation feed and
 * the expired-row sweeps, and keeps one list of what to close. `close()` closes it in reverse order,
 * and a start-up that fails half way closes whatever was already open before rethrowing.
 */
import { resolveConfig, type GatehouseConfig, type GatehouseConfigInput } from './config.js';
import { AuthCore, revocationHorizonMs, type CoreLogger } from './core/auth.js';
import { systemClock, systemRandom } from './core/crypto.js';
import type { LegacyMigration } from './core/methods/migration.js';
import { dataFieldsMapper } from './core/methods/migration.js';
import type { ClaimsHook } from './core/tokens.js';
import { HashPool } from './hashing/pool.js';
import { createRateLimits, type RateLimits } from './http/rate-limit.js';
import { createOutbox, createSmtpMailer, mailFrom, type Outbox } from './mail/index.js';
import type { Clock, LegacySessionSource, Mailer, Random, Stores } from './ports.js';
import { openStores, storeParts } from './stores/open.js';
import { checkReadiness, type Readiness } from './observability/readiness.js';
import type { GatehouseMetrics, MetricsOptions } from './observability/metrics.js';
import { instrumentStores, storeKinds } from './observability/stores.js';
import { gatehouseTracer, inSpan } from './observability/tracing.js';
import type { Tracer } from '@opentelemetry/api';

/** The express-session migration, as a library user configures it (see docs/migrating-from-express-session.md). */
export interface LegacyOptions {
  /** Where the old sessions live, e.g. `new ConnectRedisSource(redis)`. Not closed by Gatehouse. */
  source: LegacySessionSource;
  /** express-session's `secret` values (any of them may have signed a live cookie). */
  secrets: readonly string[];
  /** express-session's cookie `name`. Default `connect.sid`. */
  cookieName?: string;
  /** The Gatehouse user id for an old session's data, or null when it names nobody (not signed in). */
  mapUser(data: Record<string, unknown>): Promise<string | null>;
  /** How long parallel first requests with the same old cookie are let in as the new session. Default 10 s. */
  graceMs?: number;
  /** The part of an old session's data to keep as the new session's data, or null/undefined for none. */
  mapData?(data: Record<string, unknown>): Record<string, unknown> | null | undefined;
}

export interface ComposeOptions {
  /** Configuration (validated; see docs/config.md for every setting). */
  config?: GatehouseConfigInput | GatehouseConfig;
  /** Stores to use; by default opened from `config.databaseUrl` / `config.redisUrl` (and closed by `close()`). */
  stores?: Stores;
  /** Adds application claims to access tokens. Reserved claims cannot be set. */
  claims?: ClaimsHook;
  clock?: Clock;
  random?: Random;
  logger?: CoreLogger & { debug?(obj: object, msg?: string): void };
  /** Delivers lifecycle mail (default: SMTP from `mail.smtpUrl`, else none). */
  mailer?: Mailer;
  /** Migration from express-session; overrides `config.legacy`. */
  legacy?: LegacyOptions;
  /**
   * Wraps the stores (given or opened here) before the core uses them, e.g. to count their use per
   * session (the standalone server does). Closing stays with whoever owns the stores.
   */
  wrapStores?: (stores: Stores) => Stores;
  /**
   * Prometheus metrics (prom-client), off by default: `true`, options (your own `registry`, the
   * sampling interval of live sessions, the store label of injected stores), or a `GatehouseMetrics`
   * made beforehand. The runtime's `metrics` then holds the registry; serving it is the caller's choice.
   */
  metrics?: boolean | (MetricsOptions & { storeLabel?: string }) | GatehouseMetrics;
  /**
   * Spans through the OpenTelemetry API (login, refresh, authentication, store calls, mail). On by
   * default: without an SDK registered by the application the API records nothing. `false` turns it off.
   */
  tracing?: boolean;
}

export interface LegacyRuntime {
  migration: LegacyMigration;
  secrets: readonly string[];
  cookieName: string;
}

export interface Runtime {
  config: GatehouseConfig;
  core: AuthCore;
  rateLimits: RateLimits;
  /** The queue lifecycle mail goes through (`idle()` resolves when it is empty). */
  outbox: Outbox;
  legacy: LegacyRuntime | null;
  /** Each dependency's state (database, Redis, revocation feed, signing key), for `/readyz`. */
  readiness(): Promise<Readiness>;
  /** The Prometheus metrics when `metrics` was asked for, else null. */
  metrics: GatehouseMetrics | null;
  /** The tracer spans are made with, or null when tracing is off. */
  tracer: Tracer | null;
  /** Closes everything opened here, in reverse order. */
  close(): Promise<void>;
}

/** The metrics asked for, loading prom-client only then. */
async function makeMetrics(m: ComposeOptions['metrics']): Promise<GatehouseMetrics | null> {
  if (!m) return null;
  if (typeof m === 'object' && typeof (m as GatehouseMetrics).scrape === 'function') return m as GatehouseMetrics;
  const { GatehouseMetrics } = await import('./observability/metrics.js');
  return new GatehouseMetrics(m === true ? {} : (m as MetricsOptions));
}

type Closer = () => unknown;

/** Runs closers in reverse order; every one runs even if an earlier one fails. */
async function closeAll(closers: Closer[]): Promise<void> {
  let first: unknown;
  for (const c of closers.reverse()) {
    try {
      await c();
    } catch (e) {
      first ??= e;
    }
  }
  if (first !== undefined) throw first;
}

export async function compose(options: ComposeOptions = {}): Promise<Runtime> {
  const config = resolveConfig(options.config ?? {});
  const logger = options.logger ?? { warn() {}, error() {} };
  const closers: Closer[] = [];
  try {
    let stores = options.stores;
    let parts: ReturnType<typeof storeParts> = null;
    if (!stores) {
      // The feed keeps revocations at least as long as one must hold (two hours at the least).
      const feedRetentionMs = Math.max(2 * 3_600_000, revocationHorizonMs(config) + 10 * 60_000);
      const opened = await openStores({ databaseUrl: config.databaseUrl, redisUrl: config.redisUrl, timeoutMs: config.storeTimeout, schema: config.databaseSchema, redisPrefix: config.redisPrefix, feedRetentionMs, redisWaitReplicas: config.redisWaitReplicas, redisWaitTimeoutMs: config.redisWaitTimeout });
      closers.push(() => opened.close());
      stores = opened;
      parts = storeParts(opened);
    }
    if (options.wrapStores) stores = options.wrapStores(stores);
    const metrics = await makeMetrics(options.metrics);
    const tracer = options.tracing === false ? null : gatehouseTracer();
    if (metrics || tracer) {
      const label = options.stores ? ((typeof options.metrics === 'object' && 'storeLabel' in options.metrics ? options.metrics.storeLabel : undefined) ?? 'custom') : null;
      stores = instrumentStores(stores, storeKinds(config.databaseUrl, config.redisUrl, label), metrics, tracer);
    }

    let mailer = options.mailer;
    if (!mailer && config.mail.smtpUrl) {
      const smtp = createSmtpMailer(config.mail.smtpUrl, mailFrom(config), { unsafeAllowPlaintext: config.mail.unsafeAllowPlaintext });
      closers.push(() => smtp.close?.());
      mailer = smtp;
    }
    if (mailer && tracer) {
      const inner = mailer;
      // No attribute names the recipient or the subject: the span says only that a message went out.
      mailer = { send: (msg) => inSpan(tracer, 'gatehouse.mail.send', {}, () => inner.send(msg)) };
    }
    let core: AuthCore | null = null;
    const outbox = createOutbox(config, mailer ?? null, {
      logger,
      failed: async (mail, failure) => {
        await core?.lifecycle.mailFailed(mail, failure);
      },
    });
    closers.push(() => outbox.close());

    // Password hashing off the server's own threads, at low priority, with admission control.
    let passwordEngine: HashPool | undefined;
    if (config.passwordHashing.workers > 0) {
      const pool = new HashPool({ threads: config.passwordHashing.workers, maxWaitMs: config.passwordHashing.maxWait });
      closers.push(() => pool.close());
      passwordEngine = pool;
    }

    core = new AuthCore({
      config,
      stores,
      clock: options.clock ?? systemClock,
      random: options.random ?? systemRandom,
      logger,
      mail: outbox,
      ...(metrics ? { telemetry: metrics } : {}),
      ...(passwordEngine ? { passwordEngine } : {}),
      ...(options.claims ? { claims: options.claims } : {}),
    });
    await core.start();
    const started = core;
    metrics?.bind({
      diagnostics: () => started.diagnostics(),
      mailQueueDepth: () => outbox.pending,
      countSessions: () => started.countLiveSessions(),
    });
    closers.push(() => started.stop());
    // Background work of the lifecycle (repeated-registration notices, reset requests) finishes before the outbox closes.
    closers.push(() => Promise.race([started.lifecycle.settled(), new Promise<void>((r) => setTimeout(r, 5000).unref())]));

    let rateLimitRedis: { quit(): Promise<unknown>; disconnect(): void } | null = null;
    if (config.rateLimits.enabled && config.redisUrl) {
      // Its own connection: the limits work the same whether the stores were opened here or injected.
      const { connect } = await import('./stores/redis/client.js');
      const r = connect({ url: config.redisUrl, commandTimeoutMs: config.storeTimeout });
      closers.push(() => r.quit().then(() => undefined, () => r.disconnect()));
      rateLimitRedis = r;
    }
    const rateLimits = createRateLimits(config.rateLimits, rateLimitRedis ? { redis: rateLimitRedis } : {});
    closers.push(() => rateLimits.close());

    const legacy = await composeLegacy(core, config, options.legacy, closers);

    started.startSweeps(config.cleanupInterval, {
      done: (removed) => logger.debug?.({ removed }, 'expired rows swept'),
      failed: (e) => logger.warn({ err: e }, 'expired-row sweep failed; will retry'),
    });

    const bundle = stores;
    const readiness = () =>
      checkReadiness({
        database: parts ? parts.database : () => bundle.ping(),
        redis: parts ? parts.redis : null,
        feedTrusted: () => started.diagnostics().revocationsTrusted,
        signingKeyLoaded: () => started.diagnostics().signingKeyLoaded,
        timeoutMs: config.storeTimeout,
      });
    let closing: Promise<void> | null = null;
    return {
      readiness,
      config,
      core: started,
      rateLimits,
      outbox,
      legacy,
      metrics,
      tracer,
      close: () => (closing ??= closeAll(closers)),
    };
  } catch (e) {
    await closeAll(closers).catch(() => {});
    throw e;
  }
}

/** The migration from `options.legacy` (library) or `config.legacy` (server: connect-redis on Redis), or null when off. */
async function composeLegacy(core: AuthCore, config: GatehouseConfig, given: LegacyOptions | undefined, closers: Closer[]): Promise<LegacyRuntime | null> {
  let opts = given;
  if (!opts) {
    const l = config.legacy;
    if (!l.enabled) return null;
    const url = l.redisUrl ?? config.redisUrl;
    if (!url) throw new TypeError('GATEHOUSE_LEGACY_SESSIONS needs GATEHOUSE_LEGACY_REDIS_URL (or GATEHOUSE_REDIS_URL): where connect-redis keeps the old sessions');
    const [{ connect }, { ConnectRedisSource }] = await Promise.all([import('./stores/redis/client.js'), import('./stores/legacy/connect-redis.js')]);
    const source = new ConnectRedisSource(connect({ url, commandTimeoutMs: config.storeTimeout }), { prefix: l.prefix });
    closers.push(() => source.close());
    opts = {
      source,
      secrets: l.secrets,
      cookieName: l.cookieName,
      mapUser: core.userFieldMapper(l.userField),
      graceMs: l.grace,
      ...(l.dataFields.length > 0 ? { mapData: dataFieldsMapper(l.dataFields) } : {}),
    };
  }
  if (!opts.secrets.length || opts.secrets.some((s) => typeof s !== 'string' || s.length === 0)) throw new TypeError('legacy.secrets must list at least one non-empty secret');
  const cookieName = opts.cookieName ?? 'connect.sid';
  if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(cookieName)) throw new TypeError(`legacy.cookieName "${cookieName}" is not a cookie name`);
  const migration = core.migration({
    source: opts.source,
    mapUser: opts.mapUser,
    ...(opts.mapData ? { mapData: opts.mapData } : {}),
    graceMs: opts.graceMs ?? 10_000,
    // Markers are sealed under GATEHOUSE_SECRET when there is one (the old application cannot forge
    // them then even with its own secret), else under the old secrets, which no user of the old
    // application knows.
    sealSecret: config.secret ?? opts.secrets.join('\u0000'),
    from: 'express-session',
  });
  return { migration, secrets: opts.secrets, cookieName };
}
