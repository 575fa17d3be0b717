/**
 * One schema for the whole configuration. Library users pass a partial object to createGatehouse();
 * the server builds the same object from GATEHOUSE_* environment variables (see ENV below). Either
 * way it is validated once at start, and a bad value stops start-up with a message naming it.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { oidcSchema, providersFromEnv } from './oidc-config.js';
import { parseRedisUrl, RedisUrlError } from './stores/redis/url.js';

const DURATION_RE = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses `30m`, `12h`, `5s`, `250ms`, `30d` (or a number of milliseconds). */
export function parseDuration(v: string | number): number {
  if (typeof v === 'number') return v;
  const m = DURATION_RE.exec(v.trim());
  if (!m) throw new Error(`"${v}" is not a duration (use e.g. 250ms, 5s, 30m, 12h, 30d)`);
  return Math.round(Number(m[1]) * UNIT_MS[m[2]!]!);
}

const duration = (min = 1) =>
  z.union([z.number(), z.string()]).transform((v, ctx) => {
    try {
      const ms = parseDuration(v);
      if (!Number.isFinite(ms) || ms < min) {
        ctx.addIssue({ code: 'custom', message: `must be at least ${min} ms` });
        return z.NEVER;
      }
      return ms;
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: (e as Error).message });
      return z.NEVER;
    }
  });

/** A web origin (`scheme://host[:port]`), normalised; a path, query, credentials or `null` are refused. */
/** An IP address or a CIDR block (`10.0.0.0/8`, `2001:db8::/32`), as proxy-addr reads them. */
const cidr = z.string().transform((v, ctx) => {
  const t = v.trim();
  const [addr = '', bits, ...more] = t.split('/');
  const family = isIP(addr);
  const max = family === 4 ? 32 : 128;
  if (family !== 0 && more.length === 0 && (bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= max))) return t;
  ctx.addIssue({ code: 'custom', message: `"${v}" is not an IP address or CIDR block (e.g. 10.0.0.0/8)` });
  return z.NEVER;
});

const origin = z.string().transform((v, ctx) => {
  try {
    const u = new URL(v.trim());
    const bare = u.pathname === '/' && !u.search && !u.hash && !u.username && !u.password && !/\/./.test(v.trim().replace(/^[a-z]+:\/\//i, ''));
    if ((u.protocol === 'http:' || u.protocol === 'https:') && bare) return u.origin;
  } catch {
    // not a URL: reported below
  }
  ctx.addIssue({ code: 'custom', message: `"${v}" is not an origin (use e.g. https://app.example.com)` });
  return z.NEVER;
});

/** The renewal interval when none is given and every idle lifetime is at least ten times longer. */
export const DEFAULT_RENEW_INTERVAL = 60_000;

/** A Redis URL in one of the forms of stores/redis/url.ts; the message names the problem, never the URL. */
const redisUrl = z
  .string()
  .nullable()
  .default(null)
  .superRefine((v, ctx) => {
    if (v === null) return;
    try {
      parseRedisUrl(v);
    } catch (e) {
      if (!(e instanceof RedisUrlError)) throw e;
      ctx.addIssue({ code: 'custom', message: e.message });
    }
  });

/** OWASP's minimum for argon2id (m=19 MiB, t=2, p=1). Weaker needs the loudly named escape hatch. */
export const OWASP_ARGON2 = { memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export const configSchema = z
  .object({
    /** The public base URL: the JWT issuer, the origin for CSRF checks, the links in mail. Default `http://localhost:<port>`. */
    publicUrl: z.url().transform((u) => u.replace(/\/+$/, '')).optional(),
    host: z.string().default('0.0.0.0'),
    port: z.coerce.number().int().min(0).max(65535).default(3000),
    /** `sqlite:<path>`, `sqlite::memory:`, `memory:`, `postgres://…`, `mysql://…` or `mariadb://…`. */
    databaseUrl: z.string().default('sqlite:./data/gatehouse.db'),
    /** Redis for hot state (sessions, refresh tokens, revocations, rate limits); one server, a Cluster or Sentinel. */
    redisUrl,
    /** PostgreSQL schema holding Gatehouse's tables (created if missing). */
    databaseSchema: z.string().regex(/^[a-z_][a-z0-9_]{0,47}$/, 'must be a lower-case SQL identifier of at most 48 characters').default('gatehouse'),
    /** Prepended to every Redis key and channel, so several deployments can share one Redis. */
    redisPrefix: z.string().min(1).max(64).regex(/^[^{}\s]+$/, 'must not contain {, } or spaces').default('gh:'),
    /**
     * Replicas that must acknowledge a revocation (WAIT) before it is answered, so that a failover
     * cannot bring it back. `auto`: 1 when the deployment has replicas (always behind Sentinel), else 0.
     * 0: off — a revocation is answered once the master has it.
     */
    redisWaitReplicas: z
      .union([z.number(), z.string()])
      .transform((v, ctx) => {
        if (typeof v === 'string' && v.trim().toLowerCase() === 'auto') return 'auto' as const;
        const n = typeof v === 'number' ? v : /^\s*\d{1,3}\s*$/.test(v) ? Number(v) : NaN;
        if (!Number.isInteger(n) || n < 0 || n > 16) {
          ctx.addIssue({ code: 'custom', message: 'must be auto or a number of replicas from 0 to 16' });
          return z.NEVER;
        }
        return n;
      })
      .default('auto'),
    /** How long a revocation waits for those acknowledgements before it is answered 503. */
    redisWaitTimeout: duration(1).default(250),
    /** Encrypts private keys at rest. Required when keys live in a shared database. */
    secret: z.string().min(32, 'must be at least 32 characters').nullable().default(null),
    /** Where keys and the SQLite file live by default. */
    dataDir: z.string().default('./data'),
    trustProxy: z.union([z.boolean(), z.string(), z.number()]).default(false),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    session: z
      .object({
        idleTtl: duration(1000).default(30 * 60_000),
        absoluteTtl: duration(1000).default(12 * 3_600_000),
        /**
         * Sliding renewal writes at most once per this interval. Unset: 1 minute, or a tenth of the
         * shortest idle lifetime (`idleTtl`, `token.refreshIdleTtl`) when that is shorter. Set above half
         * of either: refused at start (see `settleRenewInterval`).
         */
        renewInterval: duration(0).default(DEFAULT_RENEW_INTERVAL),
        cookieName: z.string().regex(/^__Host-[A-Za-z0-9_-]+$/, 'must start with __Host-').default('__Host-gatehouse'),
        maxPerUser: z.coerce.number().int().min(1).max(1000).default(10),
        single: z.boolean().default(false),
        dataMaxBytes: z.coerce.number().int().min(2).max(64 * 1024).default(4096),
      })
      .prefault({}),
    token: z
      .object({
        alg: z.enum(['EdDSA', 'ES256', 'RS256', 'HS256']).default('EdDSA'),
        accessTtl: duration(1000).default(10 * 60_000),
        /** Tokens whose iat is older than this are refused even if exp says otherwise. */
        maxAge: duration(1000).default(60 * 60_000),
        audience: z.string().min(1).default('gatehouse'),
        refreshIdleTtl: duration(1000).default(14 * 86_400_000),
        refreshAbsoluteTtl: duration(1000).default(30 * 86_400_000),
        /** Concurrent refreshes of one token inside this window get the same successor. */
        refreshGrace: duration(0).default(10_000),
        refreshCookieName: z.string().default('__Secure-gatehouse-refresh'),
        maxPerUser: z.coerce.number().int().min(1).max(1000).default(10),
        single: z.boolean().default(false),
        /**
         * How far an access token's `iat` may lie ahead of this instance's clock (instances of one
         * deployment on different machines). Expiry gets no leeway: a token is refused once `exp` is
         * reached. Other services set their own tolerance in gatehouse/verify (`clockToleranceSeconds`).
         */
        clockSkew: duration(0).default(30_000),
        /** Upper bound on an access token's encoded size, custom claims included. */
        maxBytes: z.coerce.number().int().min(256).max(16_384).default(2048),
      })
      .prefault({}),
    reauthWindow: duration(1000).default(10 * 60_000),
    auditRetention: duration(60_000).default(90 * 86_400_000),
    passwordHashing: z
      .object({
        memoryCost: z.coerce.number().int().min(1024).default(OWASP_ARGON2.memoryCost),
        timeCost: z.coerce.number().int().min(1).default(OWASP_ARGON2.timeCost),
        parallelism: z.coerce.number().int().min(1).max(16).default(OWASP_ARGON2.parallelism),
        /** Allows parameters below OWASP's minimum. For test suites only; the server warns loudly. */
        unsafeAllowWeak: z.boolean().default(false),
        /**
         * Hashing threads in a low-priority helper process (src/hashing/pool.ts), so that logins cannot
         * starve authenticated traffic; 0 hashes in this process on libuv's thread pool instead.
         */
        workers: z.coerce.number().int().min(0).max(64).default(2),
        /** A password check that could not start within this long is refused at once (503 `password_hashing_busy`). */
        maxWait: duration(0).default(1000),
      })
      .prefault({})
      .superRefine((p, ctx) => {
        if (p.unsafeAllowWeak) return;
        if (p.memoryCost < OWASP_ARGON2.memoryCost || p.timeCost < OWASP_ARGON2.timeCost) {
          ctx.addIssue({
            code: 'custom',
            message: `argon2id parameters below OWASP minimum (m=${OWASP_ARGON2.memoryCost} KiB, t=${OWASP_ARGON2.timeCost}); set GATEHOUSE_UNSAFE_WEAK_PASSWORD_HASHING=true only for tests`,
          });
        }
      }),
    /** How often expired rows are swept (SQL stores). */
    cleanupInterval: duration(1000).default(10 * 60_000),
    /** In-process cache of validated sessions and verified tokens (entries). */
    cacheMaxEntries: z.coerce.number().int().min(0).max(10_000_000).default(100_000),
    /** Per-operation store timeout; beyond it a request gets 503. */
    storeTimeout: duration(50).default(2000),
    /**
     * Prometheus metrics of `gatehouse serve`: on a port of their own (bound to `host`, loopback by
     * default) and/or at `/metrics` on the main port behind a bearer `token`. Neither set: off.
     */
    metrics: z
      .object({
        port: z.coerce.number().int().min(0).max(65535).nullable().default(null),
        host: z.string().min(1).default('127.0.0.1'),
        token: z.string().min(32, 'must be at least 32 characters (e.g. openssl rand -base64 32)').regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces').nullable().default(null),
      })
      .prefault({}),
    csrf: z
      .object({
        /** Origins besides GATEHOUSE_PUBLIC_URL's that may send cookie-authenticated unsafe requests. */
        allowedOrigins: z.array(origin).default([]),
      })
      .prefault({}),
    cors: z
      .object({
        /** Origins allowed to call the API from a browser with credentials (CORS). Empty: none. */
        origins: z.array(origin).default([]),
      })
      .prefault({}),
    webauthn: z
      .object({
        /** The WebAuthn relying-party id; default the public URL's host name. */
        rpId: z
          .string()
          .regex(/^(?=.{1,253}$)[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/, 'must be a lower-case host name such as example.com')
          .nullable()
          .default(null),
        /** Shown by authenticators next to the account (and the issuer of authenticator-app entries). */
        rpName: z.string().min(1).max(64).default('Gatehouse'),
        /** Origins besides the public URL's whose passkey ceremonies are accepted (e.g. a second web app). */
        origins: z.array(origin).default([]),
      })
      .prefault({}),
    admin: z
      .object({
        /** Serve the admin API (and the console's data) at /admin/api in `gatehouse serve`. */
        enabled: z.boolean().default(true),
        /** Client addresses (CIDR blocks) the admin API answers; empty: any address (admins only). */
        allowIps: z.array(cidr).default([]),
      })
      .prefault({}),
    rateLimits: z
      .object({
        /** Off only for load tests on a developer's machine; the server warns loudly at start. */
        enabled: z.boolean().default(true),
        /** Password attempts per account (login, reauth, password change) in `accountWindow`; a success resets them. */
        accountAttempts: z.coerce.number().int().min(1).max(1000).default(10),
        accountWindow: duration(1000).default(15 * 60_000),
        /** How long an account stays throttled once its attempts are spent. */
        accountBlock: duration(1000).default(15 * 60_000),
        /** Failed credential checks (wrong password, invalid refresh token) per client IP in `ipFailureWindow`. */
        ipFailures: z.coerce.number().int().min(1).max(1_000_000).default(100),
        ipFailureWindow: duration(1000).default(60 * 60_000),
        /** All requests to login, register, refresh, reauth and password change per client IP in `ipWindow`. */
        ipRequests: z.coerce.number().int().min(1).max(10_000_000).default(1000),
        ipWindow: duration(1000).default(15 * 60_000),
        /** Key prefix of the counters (in Redis when GATEHOUSE_REDIS_URL is set, else in process memory). */
        keyPrefix: z.string().min(1).max(64).default('gh:rl:'),
      })
      .prefault({}),
    /** Outgoing mail (verification, password reset, email change). */
    mail: z
      .object({
        /** `smtp://user:pass@host:587` (STARTTLS required) or `smtps://…`; null: the development mailer (log), localhost only. */
        smtpUrl: z.string().nullable().default(null),
        /** Lets `smtp://` send in clear when the server offers no STARTTLS. Off: no AUTH, no message. The server warns at start. */
        unsafeAllowPlaintext: z.boolean().default(false),
        /** The From header; default `Gatehouse <no-reply@HOST>` from the public URL. */
        from: z.string().min(3).nullable().default(null),
        /** Delivery attempts per message before it is given up (each failure is audited). */
        maxAttempts: z.coerce.number().int().min(1).max(20).default(6),
        /** First retry delay; doubles on each further failure (with jitter), capped at 15 minutes. */
        retryBase: duration(1).default(2000),
      })
      .prefault({}),
    /** Email verification, password reset and email change. */
    lifecycle: z
      .object({
        passwordResetTtl: duration(60_000).default(30 * 60_000),
        emailVerificationTtl: duration(60_000).default(24 * 3_600_000),
        emailChangeTtl: duration(60_000).default(3_600_000),
        /** Refuse login (403 email_unverified) until the address is verified. */
        requireVerifiedEmail: z.boolean().default(false),
        /** Reset requests per client IP per `limitWindow` (beyond: 429). */
        resetPerIp: z.coerce.number().int().min(1).default(10),
        /** Reset mails per address per `limitWindow` (beyond: still 202, no mail). */
        resetPerEmail: z.coerce.number().int().min(1).default(3),
        /** Verification resends per account per `limitWindow` (beyond: 429). */
        resendPerAccount: z.coerce.number().int().min(1).default(3),
        /** Reset confirmations (new password + link) per client IP per `limitWindow` (beyond: 429). */
        resetConfirmPerIp: z.coerce.number().int().min(1).default(30),
        /** Email-change requests per account per `limitWindow` (beyond: 429). */
        emailChangePerAccount: z.coerce.number().int().min(1).default(5),
        /** Email-change requests naming one new address per `limitWindow`, whoever asks (beyond: 429). */
        emailChangePerAddress: z.coerce.number().int().min(1).default(3),
        limitWindow: duration(1000).default(3_600_000),
      })
      .prefault({}),
    /** DPoP (RFC 9449): token-mode sessions bound to a key the client holds. */
    dpop: z
      .object({
        /**
         * `optional`: a token login or refresh with a DPoP proof binds the session; `required`: every
         * token-issuing request and every token use needs one; `off`: new sessions are never bound
         * (sessions already bound stay bound and keep needing proofs).
         */
        mode: z.enum(['off', 'optional', 'required']).default('optional'),
        /** Require a server nonce (`DPoP-Nonce`) in every proof. */
        nonce: z.boolean().default(false),
        /** A proof is accepted while its `iat` is within this much of the server's time (either way). */
        proofWindow: duration(1000).default(60_000),
      })
      .prefault({})
      .superRefine((d, ctx) => {
        if (d.proofWindow > 10 * 60_000) ctx.addIssue({ code: 'custom', path: ['proofWindow'], message: 'must be at most 10m (a proof is a one-request credential)' });
      }),
    /** Device Bound Session Credentials (W3C): cookie sessions bound to a key the browser holds. */
    dbsc: z
      .object({
        /** `optional`: browsers that support DBSC are offered registration after a cookie login; `off`: never. */
        mode: z.enum(['off', 'optional']).default('optional'),
        /** Lifetime of the short bound cookie a registered browser renews with a signed proof. */
        cookieTtl: duration(30_000).default(10 * 60_000),
        cookieName: z.string().regex(/^__Host-[A-Za-z0-9_-]+$/, 'must start with __Host-').default('__Host-gatehouse-bound'),
      })
      .prefault({})
      .superRefine((d, ctx) => {
        if (d.cookieTtl > 3_600_000) ctx.addIssue({ code: 'custom', path: ['cookieTtl'], message: 'must be at most 1h (a stolen bound cookie works until it expires)' });
      }),
    /** Migration from express-session (connect-redis): an old signed `connect.sid` cookie becomes a Gatehouse session. */
    legacy: z
      .object({
        enabled: z.boolean().default(false),
        /** express-session's secrets; a cookie signed by any of them is accepted. */
        secrets: z.array(z.string().min(1)).default([]),
        cookieName: z.string().regex(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/, 'must be a cookie name').default('connect.sid'),
        /** Where connect-redis keeps the old sessions; default `redisUrl`. */
        redisUrl,
        prefix: z.string().max(256).default('sess:'),
        /** Dot path into the old session naming the user: an email is looked up, anything else is a user id. */
        userField: z.string().regex(/^[A-Za-z0-9_$-]+(\.[A-Za-z0-9_$-]+)*$/, 'must be a dot path such as userId or user.email').default('userId'),
        /** How long parallel first requests with one old cookie are let in as the session that replaced it. */
        grace: duration(0).default(10_000),
        /** Top-level fields of the old session data carried into the new session's data (default none). */
        dataFields: z.array(z.string().regex(/^[A-Za-z0-9_$-]{1,128}$/, 'must be top-level field names such as cart')).default([]),
      })
      .prefault({})
      .superRefine((l, ctx) => {
        if (l.enabled && l.secrets.length === 0) ctx.addIssue({ code: 'custom', path: ['secrets'], message: 'migration is on but no old secret is configured' });
      }),
    /** Identity providers: OpenID Connect issuers and plain OAuth 2.0 providers (see docs/oidc.md). */
    oidc: oidcSchema,
  })
  .strict()
  .superRefine((c, ctx) => {
    // WAIT runs as one Redis command: past the store timeout the client gives up on it first.
    // (With `auto` the stores cut the wait to half the store timeout instead: a deployment without
    // replicas, and so without a wait, need not know about it.)
    if (c.redisUrl !== null && typeof c.redisWaitReplicas === 'number' && c.redisWaitReplicas > 0 && c.redisWaitTimeout >= c.storeTimeout) {
      ctx.addIssue({
        code: 'custom',
        path: ['redisWaitTimeout'],
        message: `must be shorter than GATEHOUSE_STORE_TIMEOUT (${c.storeTimeout} ms), or set GATEHOUSE_REDIS_WAIT_REPLICAS=0`,
      });
    }
  })
  // Unset, the public URL follows the port: `PORT=3900` alone gives links and an issuer on :3900.
  .transform(({ publicUrl, ...rest }) => ({ ...rest, publicUrl: publicUrl ?? `http://localhost:${rest.port}` }));

export type GatehouseConfig = z.output<typeof configSchema>;
export type GatehouseConfigInput = z.input<typeof configSchema>;

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

type EnvKind = 'string' | 'int' | 'nullable-int' | 'duration' | 'bool' | 'nullable-string' | 'list' | 'json';
interface EnvVar {
  name: string;
  path: string[];
  kind: EnvKind;
  doc: string;
}

/** Every environment variable the server reads, with the config path it sets. Generates docs/config.md. */
export const ENV: EnvVar[] = [
  { name: 'PORT', path: ['port'], kind: 'int', doc: 'TCP port to listen on.' },
  { name: 'GATEHOUSE_HOST', path: ['host'], kind: 'string', doc: 'Address to bind.' },
  { name: 'GATEHOUSE_PUBLIC_URL', path: ['publicUrl'], kind: 'string', doc: 'Public base URL: JWT issuer, allowed origin for CSRF checks, links in mail. Unset: `http://localhost:<PORT>`.' },
  { name: 'GATEHOUSE_DATABASE_URL', path: ['databaseUrl'], kind: 'string', doc: '`sqlite:<path>`, `memory:`, `postgres://…`, or `mysql://user:pass@host:3306/db` (also `mariadb://…`; MySQL 8.0.17+ or MariaDB 10.6+).' },
  { name: 'GATEHOUSE_REDIS_URL', path: ['redisUrl'], kind: 'nullable-string', doc: 'Redis for sessions, refresh tokens, revocations and rate limits: `redis://[user:pass@]host:6379`, a Cluster `redis+cluster://[user:pass@]host:port,host:port`, or a master found through Sentinel `redis+sentinel://[user:pass@]host:26379,host:26380/mymaster[?sentinel_password=…]`; `rediss…` for TLS. See docs/deployment.md.' },
  { name: 'GATEHOUSE_DATABASE_SCHEMA', path: ['databaseSchema'], kind: 'string', doc: 'PostgreSQL schema holding Gatehouse\'s tables (created if missing). Every instance of one deployment uses the same. (MySQL: the database named in the URL.)' },
  { name: 'GATEHOUSE_REDIS_PREFIX', path: ['redisPrefix'], kind: 'string', doc: 'Prefix of every Redis key and pub/sub channel. Every instance of one deployment uses the same; another deployment on the same Redis uses another.' },
  { name: 'GATEHOUSE_REDIS_WAIT_REPLICAS', path: ['redisWaitReplicas'], kind: 'string', doc: 'Replicas that must acknowledge a revocation (Redis `WAIT`) before it is answered, so that no failover can undo it; when they do not within the wait timeout the request gets 503 with Retry-After. `auto` (default): 1 when the deployment has replicas at start (always with Sentinel), else 0. `0`: off — a revocation is answered once the master has it, and a failover in the next moment may lose it.' },
  { name: 'GATEHOUSE_REDIS_WAIT_TIMEOUT', path: ['redisWaitTimeout'], kind: 'duration', doc: 'How long a revocation waits for the replicas\' acknowledgement before it is answered 503. Shorter than GATEHOUSE_STORE_TIMEOUT (refused at start with a number of replicas; with `auto`, cut to half the store timeout).' },
  { name: 'GATEHOUSE_SECRET', path: ['secret'], kind: 'nullable-string', doc: 'At least 32 characters; encrypts private keys and TOTP secrets at rest and signs device-binding (DBSC) registration challenges, so a sign-in stores none. Required with a shared database.' },
  { name: 'GATEHOUSE_DATA_DIR', path: ['dataDir'], kind: 'string', doc: 'Directory for the SQLite file and key files.' },
  { name: 'GATEHOUSE_TRUST_PROXY', path: ['trustProxy'], kind: 'string', doc: 'Trusted proxy setting (Express `trust proxy`): `false`, `loopback`, a CIDR list or a hop count. Only then is X-Forwarded-For used.' },
  { name: 'GATEHOUSE_LOG_LEVEL', path: ['logLevel'], kind: 'string', doc: 'pino log level.' },
  { name: 'GATEHOUSE_SESSION_IDLE_TTL', path: ['session', 'idleTtl'], kind: 'duration', doc: 'Idle timeout of cookie sessions.' },
  { name: 'GATEHOUSE_SESSION_ABSOLUTE_TTL', path: ['session', 'absoluteTtl'], kind: 'duration', doc: 'Absolute lifetime of cookie sessions.' },
  { name: 'GATEHOUSE_SESSION_RENEW_INTERVAL', path: ['session', 'renewInterval'], kind: 'duration', doc: 'Sliding renewal writes to the store at most once per this interval. Unset, it is 1m or a tenth of the shorter of `GATEHOUSE_SESSION_IDLE_TTL` and `GATEHOUSE_REFRESH_IDLE_TTL`, whichever is less; set to more than half of either, the server refuses to start, naming both.' },
  { name: 'GATEHOUSE_SESSION_MAX_PER_USER', path: ['session', 'maxPerUser'], kind: 'int', doc: 'Cookie sessions per user; the oldest is evicted beyond it.' },
  { name: 'GATEHOUSE_SESSION_SINGLE', path: ['session', 'single'], kind: 'bool', doc: 'Single-session mode for cookie logins: a new login ends the others.' },
  { name: 'GATEHOUSE_SESSION_DATA_MAX_BYTES', path: ['session', 'dataMaxBytes'], kind: 'int', doc: 'Size bound of application data kept on a session.' },
  { name: 'GATEHOUSE_ACCESS_TOKEN_TTL', path: ['token', 'accessTtl'], kind: 'duration', doc: 'Access token lifetime.' },
  { name: 'GATEHOUSE_ACCESS_TOKEN_MAX_AGE', path: ['token', 'maxAge'], kind: 'duration', doc: 'Maximum accepted age (now − iat) of an access token.' },
  { name: 'GATEHOUSE_TOKEN_ALG', path: ['token', 'alg'], kind: 'string', doc: 'Signing algorithm: EdDSA, ES256, RS256 or HS256.' },
  { name: 'GATEHOUSE_TOKEN_AUDIENCE', path: ['token', 'audience'], kind: 'string', doc: 'The `aud` claim of access tokens.' },
  { name: 'GATEHOUSE_REFRESH_IDLE_TTL', path: ['token', 'refreshIdleTtl'], kind: 'duration', doc: 'Refresh token idle lifetime.' },
  { name: 'GATEHOUSE_REFRESH_ABSOLUTE_TTL', path: ['token', 'refreshAbsoluteTtl'], kind: 'duration', doc: 'Refresh token (and token session) absolute lifetime.' },
  { name: 'GATEHOUSE_REFRESH_GRACE', path: ['token', 'refreshGrace'], kind: 'duration', doc: 'Window in which concurrent refreshes of one token get the same successor.' },
  { name: 'GATEHOUSE_TOKEN_MAX_PER_USER', path: ['token', 'maxPerUser'], kind: 'int', doc: 'Token sessions per user; the oldest is evicted beyond it.' },
  { name: 'GATEHOUSE_TOKEN_SINGLE', path: ['token', 'single'], kind: 'bool', doc: 'Single-session mode for token logins.' },
  { name: 'GATEHOUSE_REAUTH_WINDOW', path: ['reauthWindow'], kind: 'duration', doc: 'How long a login or reauth counts as recent for sensitive actions.' },
  { name: 'GATEHOUSE_AUDIT_RETENTION', path: ['auditRetention'], kind: 'duration', doc: 'Audit events older than this are deleted.' },
  { name: 'GATEHOUSE_PASSWORD_HASH_MEMORY', path: ['passwordHashing', 'memoryCost'], kind: 'int', doc: 'argon2id memory in KiB (minimum 19456).' },
  { name: 'GATEHOUSE_PASSWORD_HASH_TIME', path: ['passwordHashing', 'timeCost'], kind: 'int', doc: 'argon2id iterations (minimum 2).' },
  { name: 'GATEHOUSE_PASSWORD_HASH_PARALLELISM', path: ['passwordHashing', 'parallelism'], kind: 'int', doc: 'argon2id lanes.' },
  { name: 'GATEHOUSE_PASSWORD_HASH_WORKERS', path: ['passwordHashing', 'workers'], kind: 'int', doc: 'Threads that hash passwords, in a helper process at the lowest CPU priority (nice 19 on Linux), so that a burst of logins cannot slow authenticated requests; `0` hashes inside the server process (libuv\'s thread pool) at normal priority.' },
  { name: 'GATEHOUSE_PASSWORD_HASH_MAX_WAIT', path: ['passwordHashing', 'maxWait'], kind: 'duration', doc: 'Admission control of password hashing: a login, registration or password change whose hash could not start within this long (queue ÷ threads × recent hash time) is refused at once with 503 `password_hashing_busy` and `Retry-After`, instead of waiting. Applies with workers > 0.' },
  { name: 'GATEHOUSE_UNSAFE_WEAK_PASSWORD_HASHING', path: ['passwordHashing', 'unsafeAllowWeak'], kind: 'bool', doc: 'Allows argon2id below OWASP minimums. Tests only; the server warns at start.' },
  { name: 'GATEHOUSE_CLEANUP_INTERVAL', path: ['cleanupInterval'], kind: 'duration', doc: 'How often expired rows are swept.' },
  { name: 'GATEHOUSE_CACHE_MAX_ENTRIES', path: ['cacheMaxEntries'], kind: 'int', doc: 'Bound of the in-process session/token cache.' },
  { name: 'GATEHOUSE_STORE_TIMEOUT', path: ['storeTimeout'], kind: 'duration', doc: 'Per-operation store timeout; past it requests get 503.' },
  { name: 'GATEHOUSE_METRICS_PORT', path: ['metrics', 'port'], kind: 'nullable-int', doc: 'Serves Prometheus metrics at `/metrics` on this port of its own, bound to `GATEHOUSE_METRICS_HOST`. Unset (and no token): metrics are off. See docs/operations.md.' },
  { name: 'GATEHOUSE_METRICS_HOST', path: ['metrics', 'host'], kind: 'string', doc: 'Address the metrics port binds to: loopback by default, so only a local scraper (or a sidecar) reaches it.' },
  { name: 'GATEHOUSE_METRICS_TOKEN', path: ['metrics', 'token'], kind: 'nullable-string', doc: 'Serves `/metrics` on the main port to requests with `Authorization: Bearer <token>` only (at least 32 characters; compared in constant time). Unset (and no port): metrics are off.' },
  { name: 'GATEHOUSE_ALLOWED_ORIGINS', path: ['csrf', 'allowedOrigins'], kind: 'list', doc: 'Comma-separated origins, besides the public URL\'s, allowed to send cookie-authenticated POST/PUT/PATCH/DELETE requests (CSRF check).' },
  { name: 'GATEHOUSE_ADMIN_API', path: ['admin', 'enabled'], kind: 'bool', doc: '`off` removes the admin API (`/admin/api`) from `gatehouse serve`: run it on an internal instance only (see docs/admin.md). On by default; only users holding the administrator role (`gatehouse user grant-admin`) get past it.' },
  { name: 'GATEHOUSE_ADMIN_ALLOW_IPS', path: ['admin', 'allowIps'], kind: 'list', doc: 'Comma-separated IP addresses or CIDR blocks (`10.0.0.0/8,2001:db8::/32`) the admin API answers (403 `forbidden` from anywhere else; the client address follows GATEHOUSE_TRUST_PROXY). Empty by default: any address, administrators only.' },
  { name: 'GATEHOUSE_CORS_ORIGINS', path: ['cors', 'origins'], kind: 'list', doc: 'Comma-separated origins allowed to call the API from a browser with credentials (CORS). Empty by default: no cross-origin access.' },
  { name: 'GATEHOUSE_WEBAUTHN_RP_ID', path: ['webauthn', 'rpId'], kind: 'nullable-string', doc: 'WebAuthn relying-party id of passkeys (a host name). Default: the host of the public URL.' },
  { name: 'GATEHOUSE_WEBAUTHN_ORIGINS', path: ['webauthn', 'origins'], kind: 'list', doc: 'Comma-separated origins, besides the public URL\'s, whose passkey ceremonies are accepted.' },
  { name: 'GATEHOUSE_WEBAUTHN_RP_NAME', path: ['webauthn', 'rpName'], kind: 'string', doc: 'Name shown by authenticators and authenticator apps next to the account.' },
  { name: 'GATEHOUSE_RATE_LIMITS', path: ['rateLimits', 'enabled'], kind: 'bool', doc: '`off` disables every brute-force limit (load tests on a developer machine only; the server warns at start).' },
  { name: 'GATEHOUSE_RATE_LIMIT_ACCOUNT_ATTEMPTS', path: ['rateLimits', 'accountAttempts'], kind: 'int', doc: 'Password attempts per account (login, reauth, password change) per window; a success resets the count.' },
  { name: 'GATEHOUSE_RATE_LIMIT_ACCOUNT_WINDOW', path: ['rateLimits', 'accountWindow'], kind: 'duration', doc: 'Window of the per-account attempts.' },
  { name: 'GATEHOUSE_RATE_LIMIT_ACCOUNT_BLOCK', path: ['rateLimits', 'accountBlock'], kind: 'duration', doc: 'How long an account is throttled (429, even for the right password) once its attempts are spent.' },
  { name: 'GATEHOUSE_RATE_LIMIT_IP_FAILURES', path: ['rateLimits', 'ipFailures'], kind: 'int', doc: 'Failed credential checks per client IP per window before the IP is throttled.' },
  { name: 'GATEHOUSE_RATE_LIMIT_IP_FAILURE_WINDOW', path: ['rateLimits', 'ipFailureWindow'], kind: 'duration', doc: 'Window (and block time) of the per-IP failures.' },
  { name: 'GATEHOUSE_RATE_LIMIT_IP_REQUESTS', path: ['rateLimits', 'ipRequests'], kind: 'int', doc: 'Requests to login, register, refresh, reauth and password change per client IP per window.' },
  { name: 'GATEHOUSE_RATE_LIMIT_IP_WINDOW', path: ['rateLimits', 'ipWindow'], kind: 'duration', doc: 'Window of the per-IP request budget.' },
  { name: 'GATEHOUSE_RATE_LIMIT_PREFIX', path: ['rateLimits', 'keyPrefix'], kind: 'string', doc: 'Key prefix of the rate-limit counters in Redis.' },
  { name: 'GATEHOUSE_SMTP_URL', path: ['mail', 'smtpUrl'], kind: 'nullable-string', doc: 'SMTP server for outgoing mail: `smtp://user:pass@host:587` (STARTTLS required) or `smtps://user:pass@host:465` (implicit TLS). Required unless the public URL is localhost (then mail goes to the log).' },
  { name: 'GATEHOUSE_UNSAFE_SMTP_PLAINTEXT', path: ['mail', 'unsafeAllowPlaintext'], kind: 'bool', doc: 'Lets an `smtp://` server without STARTTLS receive the SMTP credentials and the mail (reset and verification links) in clear. Off by default: `smtp://` requires STARTTLS, and a server that does not offer it gets no AUTH and no message (`smtps://` is TLS from the start). Only for a relay on the same host or a trusted private link; the server warns at start.' },
  { name: 'GATEHOUSE_MAIL_FROM', path: ['mail', 'from'], kind: 'nullable-string', doc: 'From address of outgoing mail, e.g. `Example <no-reply@example.com>`.' },
  { name: 'GATEHOUSE_MAIL_MAX_ATTEMPTS', path: ['mail', 'maxAttempts'], kind: 'int', doc: 'Delivery attempts per message before it is given up.' },
  { name: 'GATEHOUSE_MAIL_RETRY_BASE', path: ['mail', 'retryBase'], kind: 'duration', doc: 'First retry delay of a failed send; doubles per attempt.' },
  { name: 'GATEHOUSE_PASSWORD_RESET_TTL', path: ['lifecycle', 'passwordResetTtl'], kind: 'duration', doc: 'Lifetime of a password-reset link.' },
  { name: 'GATEHOUSE_EMAIL_VERIFICATION_TTL', path: ['lifecycle', 'emailVerificationTtl'], kind: 'duration', doc: 'Lifetime of an email-verification link.' },
  { name: 'GATEHOUSE_EMAIL_CHANGE_TTL', path: ['lifecycle', 'emailChangeTtl'], kind: 'duration', doc: 'Lifetime of an email-change confirmation link.' },
  { name: 'GATEHOUSE_REQUIRE_VERIFIED_EMAIL', path: ['lifecycle', 'requireVerifiedEmail'], kind: 'bool', doc: 'Refuse login (403 `email_unverified`) until the address is verified.' },
  { name: 'GATEHOUSE_DPOP', path: ['dpop', 'mode'], kind: 'string', doc: 'DPoP (RFC 9449) for token mode: `optional` (a token login with a `DPoP` proof binds the session to the client\'s key), `required` (token logins, refreshes and token uses without a proof are refused) or `off` (no new bindings; bound sessions keep needing proofs).' },
  { name: 'GATEHOUSE_DPOP_NONCE', path: ['dpop', 'nonce'], kind: 'bool', doc: 'Require a server nonce in every DPoP proof (`DPoP-Nonce` header, `use_dpop_nonce` error).' },
  { name: 'GATEHOUSE_DPOP_PROOF_WINDOW', path: ['dpop', 'proofWindow'], kind: 'duration', doc: 'How far a DPoP proof\'s `iat` may be from the server\'s time, either way; its `jti` is remembered that long. At most 10m.' },
  { name: 'GATEHOUSE_DBSC', path: ['dbsc', 'mode'], kind: 'string', doc: 'Device Bound Session Credentials for cookie mode: `optional` (browsers that support DBSC register a device key after a cookie login and then need a short bound cookie renewed with a signed proof) or `off`.' },
  { name: 'GATEHOUSE_DBSC_COOKIE_TTL', path: ['dbsc', 'cookieTtl'], kind: 'duration', doc: 'Lifetime of the short DBSC bound cookie: how long a copied cookie pair works off its device. At most 1h.' },
  { name: 'GATEHOUSE_OIDC_PROVIDERS', path: ['oidc', 'providers'], kind: 'json', doc: 'Identity providers users may sign in with, as a JSON array: `[{"id":"google","preset":"google","clientId":"…","signUp":true}]`. Presets `google`, `microsoft` (with `tenant`), `gitlab` and `github`; any OpenID Connect `issuer` (discovery); or a plain OAuth 2.0 provider with `authorizationEndpoint`, `tokenEndpoint`, `userinfoEndpoint` and `claims`. A client secret is best given as `GATEHOUSE_OIDC_<ID>_CLIENT_SECRET` (ID upper-cased, `-` as `_`). See docs/oidc.md.' },
  { name: 'GATEHOUSE_LEGACY_SESSIONS', path: ['legacy', 'enabled'], kind: 'bool', doc: 'Migration from express-session: a valid old signed session cookie is replaced by a Gatehouse session on first use (see docs/migrating-from-express-session.md).' },
  { name: 'GATEHOUSE_LEGACY_SECRETS', path: ['legacy', 'secrets'], kind: 'list', doc: 'Comma-separated express-session secrets; a cookie signed by any of them is accepted.' },
  { name: 'GATEHOUSE_LEGACY_COOKIE', path: ['legacy', 'cookieName'], kind: 'string', doc: 'Name of the old session cookie.' },
  { name: 'GATEHOUSE_LEGACY_REDIS_URL', path: ['legacy', 'redisUrl'], kind: 'nullable-string', doc: 'Redis holding the old connect-redis sessions (default: GATEHOUSE_REDIS_URL).' },
  { name: 'GATEHOUSE_LEGACY_PREFIX', path: ['legacy', 'prefix'], kind: 'string', doc: 'connect-redis key prefix of the old sessions.' },
  { name: 'GATEHOUSE_LEGACY_USER_FIELD', path: ['legacy', 'userField'], kind: 'string', doc: 'Dot path into the old session naming the user, e.g. `userId` or `user.email`: an email is looked up, anything else is a Gatehouse user id.' },
  { name: 'GATEHOUSE_LEGACY_DATA_FIELDS', path: ['legacy', 'dataFields'], kind: 'list', doc: 'Comma-separated top-level fields of the old session data (e.g. `cart,locale`) carried into the new session\'s data, within `GATEHOUSE_SESSION_DATA_MAX_BYTES`; empty: only who is signed in moves.' },
  { name: 'GATEHOUSE_LEGACY_GRACE', path: ['legacy', 'grace'], kind: 'duration', doc: 'How long parallel first requests with one old cookie are let in as the session that replaced it; after it the old cookie is worth nothing.' },
];

function setPath(obj: Record<string, unknown>, path: string[], value: unknown): void {
  let o = obj;
  for (const k of path.slice(0, -1)) o = (o[k] ??= {}) as Record<string, unknown>;
  o[path[path.length - 1]!] = value;
}

function parseBool(name: string, v: string): boolean {
  if (/^(1|true|yes|on)$/i.test(v)) return true;
  if (/^(0|false|no|off)$/i.test(v)) return false;
  throw new ConfigError(`${name}: "${v}" is not a boolean (use true or false)`);
}

/** Builds config input from environment variables. Unset or empty variables keep the default. */
export function configInputFromEnv(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  for (const v of ENV) {
    const raw = env[v.name];
    if (raw === undefined || raw === '') continue;
    let value: unknown = raw;
    if (v.kind === 'bool') value = parseBool(v.name, raw);
    else if (v.kind === 'list') value = raw.split(',').map((x) => x.trim()).filter(Boolean);
    else if (v.kind === 'int' || v.kind === 'nullable-int') value = raw; // coerced and range-checked by the schema
    else if (v.kind === 'json') value = providersFromEnv(raw, env, (msg) => { throw new ConfigError(msg); });
    else if (v.name === 'GATEHOUSE_TRUST_PROXY') value = /^(true|false)$/i.test(raw) ? parseBool(v.name, raw) : /^\d+$/.test(raw) ? Number(raw) : raw;
    setPath(input, v.path, value);
  }
  return input;
}

function describePath(path: PropertyKey[]): string {
  const p = path.map(String);
  // A list item (`cors.origins.0`) is named by its list's variable.
  const env = ENV.find((v) => v.path.join('.') === p.join('.')) ?? ENV.find((v) => (v.kind === 'list' || v.kind === 'json') && p.join('.').startsWith(v.path.join('.') + '.'));
  return env ? `${env.name} (${p.join('.')})` : p.join('.') || '(config)';
}

/** Validates config input; throws ConfigError naming every bad setting. */
export function resolveConfig(input: unknown): GatehouseConfig {
  const r = configSchema.safeParse(input ?? {});
  if (r.success) return settleRenewInterval(r.data, renewIntervalGiven(input));
  const lines = r.error.issues.map((i) => `${describePath(i.path)}: ${i.message}`);
  throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`);
}

const DEFAULT_RENEW_FRACTION = 10;

function renewIntervalGiven(input: unknown): boolean {
  const session = (input as { session?: unknown } | null | undefined)?.session;
  return typeof session === 'object' && session !== null && (session as { renewInterval?: unknown }).renewInterval !== undefined;
}

/** 1800000 → `30m`: the largest unit that divides the value exactly. */
function fmt(ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/**
 * A session is extended at most once per renewal interval, so an active user's idle deadline can lag
 * their last request by up to that interval: with an interval at or above the idle lifetime, users
 * active all along are signed out at the idle lifetime. An interval that is not given follows the
 * idle lifetimes down (a tenth of the shortest, at most 1 minute); one that is given and exceeds half
 * of an idle lifetime is refused, naming both settings.
 */
function settleRenewInterval(config: GatehouseConfig, given: boolean): GatehouseConfig {
  const idles = [
    { name: 'GATEHOUSE_SESSION_IDLE_TTL (session.idleTtl)', ms: config.session.idleTtl },
    { name: 'GATEHOUSE_REFRESH_IDLE_TTL (token.refreshIdleTtl)', ms: config.token.refreshIdleTtl },
  ];
  if (!given) {
    const shortest = Math.min(...idles.map((i) => i.ms));
    const renewInterval = Math.min(DEFAULT_RENEW_INTERVAL, Math.floor(shortest / DEFAULT_RENEW_FRACTION));
    return renewInterval === config.session.renewInterval ? config : { ...config, session: { ...config.session, renewInterval } };
  }
  const renew = config.session.renewInterval;
  const bad = idles.filter((i) => renew * 2 > i.ms);
  if (bad.length === 0) return config;
  const lines = bad.map(
    (i) =>
      `GATEHOUSE_SESSION_RENEW_INTERVAL (session.renewInterval) ${fmt(renew)} is more than half of ${i.name} ${fmt(i.ms)}: a session is extended at most once per renewal interval, so users active all along would be signed out after ${fmt(i.ms)}; set the renewal interval to at most ${fmt(Math.floor(i.ms / 2))} (or leave it unset: it then defaults to a tenth of the idle lifetime)`,
  );
  throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`);
}

/**
 * Every default, as the schema states it (the one place defaults are written): store openers and other
 * modules that need a default read it from here rather than repeating it.
 */
export const CONFIG_DEFAULTS: GatehouseConfig = configSchema.parse({});

export function loadConfigFromEnv(env: NodeJS.ProcessEnv = process.env): GatehouseConfig {
  return resolveConfig(configInputFromEnv(env));
}
