/**
 * `gatehouse serve | migrate | user … | keys … | audit`. The only place (with server/env) that reads
 * the environment. Each command validates config first and names a bad variable.
 */
import { mkdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfigFromEnv, parseDuration, type GatehouseConfig } from '../config.js';
import { compose } from '../compose.js';
import type { AuthCore } from '../core/auth.js';
import { isGatehouseError } from '../errors.js';
import { mailerFromConfig } from '../mail/index.js';
import { createServerApp } from './app.js';
import { createLogger, flushLogs, flushLogsSync } from './logger.js';
import { readNewPassword } from './password-prompt.js';
import { checkProductionConfig } from './preflight.js';

const USAGE = `usage: gatehouse <command>

  serve [--workers N]          start the auth server (PORT, GATEHOUSE_* from the environment)
  migrate                      create or upgrade the database schema
  user add EMAIL               create a user (password typed without echo, or piped on stdin)
  user disable EMAIL           disable a user; every live session fails at once
  user enable EMAIL            re-enable a user
  user delete EMAIL            delete a user and everything of theirs
  user list                    list users
  user mfa reset EMAIL         remove a user's second factors and passkeys, end their sessions, mail them
  user grant-admin EMAIL       give a user the administrator role (the admin API and console)
  user revoke-admin EMAIL      take the administrator role away (effective at once)
  keys list                    list signing keys
  keys rotate                  add a new signing key; old keys verify until their tokens expire
  keys retire KID [--now]      stop a key signing (--now: stop it verifying at once)
  audit [--user EMAIL] [--since DURATION] [--limit N]
                               print audit events, newest first (JSON lines)
  legacy report                how many old express-session sessions are left to migrate
`;

function out(line: string): void {
  process.stdout.write(line + '\n');
}

async function readPassword(): Promise<string> {
  if (process.env.GATEHOUSE_NEW_USER_PASSWORD !== undefined) throw new Error('GATEHOUSE_NEW_USER_PASSWORD is not read (the environment is visible to other processes): type the password at the prompt or pipe it on stdin');
  return readNewPassword();
}

/** Runs one command against the composed core (the same stores, feed and rules as the server), then closes it. */
async function withCore<T>(config: GatehouseConfig, fn: (core: AuthCore) => Promise<T>): Promise<T> {
  ensureDataDir(config);
  // The CLI answers no HTTP request: no rate limits, no migration of old sessions. Mail an operator's
  // action sends (a second-factor reset) goes out like the server's: SMTP, or the log (to stderr).
  const logger = createLogger(config.logLevel, process.stderr);
  const mail = mailerFromConfig(config, logger);
  const rt = await compose({
    config: { ...config, rateLimits: { ...config.rateLimits, enabled: false }, legacy: { ...config.legacy, enabled: false } },
    mailer: mail.mailer,
    logger,
  });
  try {
    const result = await fn(rt.core);
    // Mail the command queued is delivered (or given up on) before the process ends.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([rt.outbox.idle(), new Promise<void>((r) => (timer = setTimeout(r, 30_000)))]);
    clearTimeout(timer);
    return result;
  } finally {
    await rt.close();
    mail.mailer.close?.();
  }
}

const CLI_META = { ip: null, userAgent: 'gatehouse-cli' };

function ensureDataDir(config: GatehouseConfig): void {
  if (config.databaseUrl.startsWith('sqlite:') && !config.databaseUrl.includes(':memory:')) {
    mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  }
}

async function userByEmail(core: AuthCore, email: string) {
  const u = await core.admin.findUserByEmail(email);
  if (!u) throw new Error(`no user with email ${email}`);
  return u;
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, sub, ...rest] = argv;
  let config: GatehouseConfig;
  try {
    config = loadConfigFromEnv(process.env);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`gatehouse: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  try {
    switch (cmd) {
      case 'serve':
      case undefined:
        return await serve(config, [sub, ...rest].filter((x): x is string => x !== undefined));
      case 'migrate':
        await withCore(config, async () => {});
        out('database is up to date');
        return 0;
      case 'user':
        return await userCommand(config, sub, rest);
      case 'keys':
        return await keysCommand(config, sub, rest);
      case 'legacy':
        return await legacyCommand(config, sub);
      case 'audit':
        return await auditCommand(config, [sub, ...rest].filter((x): x is string => x !== undefined));
      case 'help':
      case '--help':
      case '-h':
        out(USAGE);
        return 0;
      default:
        process.stderr.write(USAGE);
        return 2;
    }
  } catch (e) {
    const msg = isGatehouseError(e) ? `${e.code}: ${e.message}` : (e as Error).message;
    process.stderr.write(`gatehouse: ${msg}\n`);
    return 1;
  }
}

async function serve(config: GatehouseConfig, args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { workers: { type: 'string' } }, allowPositionals: false });
  const logger = createLogger(config.logLevel);
  // Log lines are written asynchronously (logger.ts): a fatal error writes what is buffered before
  // the process dies, as Node would have printed the error.
  process.once('uncaughtException', (err) => {
    logger.fatal({ err }, 'uncaught exception');
    flushLogsSync(logger);
    process.stderr.write(`gatehouse: ${err.stack ?? String(err)}\n`);
    process.exit(1);
  });
  for (const w of checkProductionConfig(config)) logger.warn(w);
  const workers = values.workers === undefined ? 1 : Number(values.workers);
  if (!Number.isInteger(workers) || workers < 1 || workers > 64) throw new Error('--workers must be an integer from 1 to 64');
  if (workers > 1) {
    // A request on the main port reaches one worker, which knows only its own figures.
    if (config.metrics.token !== null) throw new Error('GATEHOUSE_METRICS_TOKEN cannot be used with --workers (each scrape would reach one worker): set GATEHOUSE_METRICS_PORT, where the primary serves every worker\'s metrics');
    const { runCluster } = await import('./workers.js');
    const metrics = config.metrics.port === null ? null : { host: config.metrics.host, port: config.metrics.port };
    return runCluster(workers, () => startOne(config, logger, true), metrics);
  }
  await startOne(config, logger);
  return 0;
}

async function startOne(config: GatehouseConfig, logger: ReturnType<typeof createLogger>, clusterWorker = false): Promise<void> {
  ensureDataDir(config);
  const srv = await createServerApp({ config, logger, clusterWorker });
  const port = await srv.listen();
  const metricsPort = srv.metricsServer?.port() ?? null;
  logger.info({ port, publicUrl: config.publicUrl, database: config.databaseUrl.split(':')[0], redis: Boolean(config.redisUrl), ...(metricsPort !== null ? { metricsPort } : {}) }, 'gatehouse listening');
  // The start-up lines go out now rather than with the first second of request lines.
  void flushLogs(logger);
  const stop = (signal: string) => {
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 15_000);
    force.unref();
    // Every buffered log line is written before the process exits.
    srv.close().then(
      () => flushLogs(logger).then(() => process.exit(0)),
      (e) => {
        logger.error({ err: e }, 'shutdown failed');
        void flushLogs(logger).then(() => process.exit(1));
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

async function userCommand(config: GatehouseConfig, sub: string | undefined, rest: string[]): Promise<number> {
  return withCore(config, async (core) => {
    const email = rest[0];
    switch (sub) {
      case 'add': {
        if (!email) throw new Error('usage: gatehouse user add EMAIL');
        const password = await readPassword();
        const u = await core.admin.createUser(email, password, CLI_META);
        if (!u) throw new Error(`a user with email ${email} exists`);
        out(JSON.stringify({ id: u.id, email: u.email }));
        return 0;
      }
      case 'disable':
      case 'enable': {
        if (!email) throw new Error(`usage: gatehouse user ${sub} EMAIL`);
        const u = await userByEmail(core, email);
        await core.admin.setDisabled(u.id, sub === 'disable', CLI_META);
        out(`${sub}d ${u.email}`);
        return 0;
      }
      case 'delete': {
        if (!email) throw new Error('usage: gatehouse user delete EMAIL');
        const u = await userByEmail(core, email);
        await core.admin.deleteUser(u.id);
        out(`deleted ${u.email}`);
        return 0;
      }
      case 'list': {
        let after: string | undefined;
        for (;;) {
          const page = await core.admin.listUsers({ limit: 500, ...(after ? { after } : {}) });
          for (const u of page) {
            out(JSON.stringify({ id: u.id, email: u.email, created_at: new Date(u.createdAt).toISOString(), disabled: u.disabledAt !== null, admin: u.admin }));
          }
          if (page.length < 500) break;
          after = page[page.length - 1]!.id;
        }
        return 0;
      }
      case 'grant-admin':
      case 'revoke-admin': {
        if (!email) throw new Error(`usage: gatehouse user ${sub} EMAIL`);
        const u = await userByEmail(core, email);
        await core.admin.setAdmin(u.id, sub === 'grant-admin', CLI_META);
        out(`${sub === 'grant-admin' ? 'granted the administrator role to' : 'revoked the administrator role of'} ${u.email}`);
        return 0;
      }
      case 'mfa': {
        const target = rest[1];
        if (rest[0] !== 'reset' || !target) throw new Error('usage: gatehouse user mfa reset EMAIL');
        const u = await userByEmail(core, target);
        const r = await core.admin.resetMfa(u.id, CLI_META);
        out(JSON.stringify({ email: u.email, totp: r?.totp ?? false, recovery_codes: r?.recoveryCodes ?? 0, passkeys: r?.passkeys ?? 0 }));
        return 0;
      }
      default:
        throw new Error('usage: gatehouse user add|disable|enable|delete|list|mfa reset|grant-admin|revoke-admin');
    }
  });
}

async function keysCommand(config: GatehouseConfig, sub: string | undefined, rest: string[]): Promise<number> {
  return withCore(config, async (core) => {
    switch (sub) {
      case 'list':
        for (const k of await core.admin.listKeys()) {
          const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
          out(JSON.stringify({ kid: k.kid, alg: k.alg, created_at: iso(k.createdAt), retired_at: iso(k.retiredAt), verify_until: iso(k.verifyUntil), encrypted: k.encrypted }));
        }
        return 0;
      case 'rotate': {
        const k = await core.admin.rotateKey();
        out(JSON.stringify({ kid: k.kid, alg: k.alg }));
        return 0;
      }
      case 'retire': {
        const { values, positionals } = parseArgs({ args: rest, options: { now: { type: 'boolean' } }, allowPositionals: true });
        const kid = positionals[0];
        if (!kid) throw new Error('usage: gatehouse keys retire KID [--now]');
        if (!(await core.admin.retireKey(kid, values.now === true))) throw new Error(`no key ${kid}`);
        out(`retired ${kid}${values.now ? ' (no longer verifies)' : ''}`);
        return 0;
      }
      default:
        throw new Error('usage: gatehouse keys list|rotate|retire KID');
    }
  });
}

async function auditCommand(config: GatehouseConfig, args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { user: { type: 'string' }, since: { type: 'string' }, limit: { type: 'string' } } });
  return withCore(config, async (core) => {
    const userId = values.user ? (await userByEmail(core, values.user)).id : undefined;
    const since = values.since ? core.now() - parseDuration(values.since) : undefined;
    const limit = values.limit ? Number(values.limit) : 100;
    const events = await core.admin.auditEvents({ limit, ...(userId ? { userId } : {}), ...(since !== undefined ? { since } : {}) });
    for (const e of events) out(JSON.stringify({ ...e, at: new Date(e.at).toISOString() }));
    return 0;
  });
}


async function legacyCommand(config: GatehouseConfig, sub: string | undefined): Promise<number> {
  if (sub !== 'report') throw new Error('usage: gatehouse legacy report');
  const url = config.legacy.redisUrl ?? config.redisUrl;
  if (!url) throw new Error('set GATEHOUSE_LEGACY_REDIS_URL (or GATEHOUSE_REDIS_URL): where connect-redis keeps the old sessions');
  const [{ connect }, { ConnectRedisSource }] = await Promise.all([import('../stores/redis/client.js'), import('../stores/legacy/connect-redis.js')]);
  const source = new ConnectRedisSource(connect({ url, commandTimeoutMs: config.storeTimeout }), { prefix: config.legacy.prefix });
  try {
    const remaining = await source.remaining();
    out(JSON.stringify({ remaining, prefix: config.legacy.prefix, migration: config.legacy.enabled ? 'on' : 'off' }));
    return 0;
  } finally {
    await source.close();
  }
}
