/**
 * The variant registry: every server the benchmark measures.
 *
 * Adding a variant (Gatehouse ones included):
 *  1. Write `bench/variants/<name>.ts`: a server that listens through `serve()` from `./_serve.js`
 *     (127.0.0.1, $PORT, prints `READY <port>`, stops on SIGTERM), checks authentication on every
 *     GET of `path`, and answers a tiny JSON. Gatehouse variants import the library from
 *     `../../src/index.js` (and stores from `../../src/stores/<store>/index.js`), e.g.:
 *
 *        import { createGatehouse } from '../../src/index.js';
 *        const gh = await createGatehouse({ store, keys, production argon2 parameters });
 *        app.use('/auth', gh.router); app.get('/me', gh.requireAuth(), (req, res) => res.json({ user: req.auth!.user.id }));
 *        serve(server, () => gh.close());
 *
 *     Shared services: derive the Redis key prefix / Postgres schema from $BENCH_RUN_ID and drop
 *     them in the `serve()` cleanup.
 *  2. Add an entry below: `{ name, description, file, path?, setup, storm?, metrics? }`.
 *     Names: contain `gatehouse`, plus `node-http` for the framework-free path — the goals in
 *     ../goals.ts select variants by these names, so a goal appears as soon as its variant exists.
 *     `setup` obtains the credential like a client would, e.g.
 *        setup: cookieLogin({ path: '/auth/login', body: CREDS }, [{ path: '/auth/register', body: CREDS, allow: [409] }])
 *        setup: bearerLogin({ path: '/auth/login', body: { ...CREDS, mode: 'token' } }, 'access_token', [...register])
 *     `storm: { login: (ctx, i) => loginOnce(ctx, { path: '/auth/login', body: CREDS }) }` enables
 *     the login-storm scenario; `metrics` may report `redisBytesPerSession` (see ../lib/redis-bytes.ts).
 */
import type { VariantContext, VariantDef } from '../lib/types.js';
import { bearerLogin, cookieLogin, loginOnce, noCredential } from '../lib/setup.js';
import { redisBytesPerSession } from '../lib/redis-bytes.js';
import { diskBytesPerSession, mysqlSessionBytes, postgresSessionBytes, sqliteSessionBytes } from '../lib/disk-bytes.js';
import { dpopLogin } from '../lib/dpop.js';
import { gatehousePrefix, redisUrl, sessionPrefix } from './_redis.js';
import { mysqlDatabase, mysqlUrl, postgresSchema, postgresUrl, sqliteDir } from './_sql.js';

const sessionLogin = { path: '/login' };
const tokenLogin = { path: '/login' };
const GATEHOUSE_CREDS = { email: 'bench@example.com', password: 'correct horse battery staple' };
/** A desktop browser: sessions carry parsed device metadata as they would in production. */
const BROWSER = { 'user-agent': 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36' };
const benchUser = (i: number) => ({ email: `bench-${i}@example.com`, password: GATEHOUSE_CREDS.password });
const GH_REGISTER = { path: '/auth/register', body: GATEHOUSE_CREDS, allow: [409] };
const GH_LOGIN = { path: '/auth/login', body: GATEHOUSE_CREDS, headers: BROWSER };
const STORM_CREDS = { email: 'storm@example.com', password: GATEHOUSE_CREDS.password };
const GH_REGISTER_STORM = { path: '/auth/register', body: STORM_CREDS, allow: [409] };
const GH_LOGIN_STORM = { path: '/auth/login', body: STORM_CREDS, headers: BROWSER };

/**
 * Bytes per session on disk, measured like Redis's bytes per session: 1,000 logins spread over 400
 * users, each with a browser's User-Agent, and the growth of the session tables' pages divided by 1,000.
 */
function sessionsOnDisk(measure: (ctx: VariantContext) => () => Promise<number>) {
  return async (ctx: VariantContext) => {
    const users = 400;
    for (let u = 0; u < users; u++) await loginOnce(ctx, { ...GH_REGISTER, body: benchUser(u) });
    return diskBytesPerSession(ctx, {
      count: 1000,
      login: (c, seq) => loginOnce(c, { ...GH_LOGIN, body: benchUser(seq % users) }),
      measure: measure(ctx),
    });
  };
}

export const variants: VariantDef[] = [
  {
    name: 'bare-http',
    description: 'node:http, no framework, no authentication (the ceiling)',
    file: 'bare-http.ts',
    setup: noCredential,
  },
  {
    name: 'bare-express',
    description: 'Express 5, no authentication (the goals are ratios to it)',
    file: 'bare-express.ts',
    setup: noCredential,
  },
  {
    name: 'express-session-memory',
    description: 'express-session + MemoryStore, cookie from a login request',
    file: 'express-session-memory.ts',
    setup: cookieLogin(sessionLogin),
    // A login here is cheap (no password hash); it shows the storm scenario working end to end.
    storm: { login: (ctx) => loginOnce(ctx, sessionLogin) },
  },
  {
    name: 'express-session-connect-redis',
    description: 'express-session + connect-redis 9 (node-redis) on 127.0.0.1:6379, unique key prefix',
    file: 'express-session-connect-redis.ts',
    setup: cookieLogin(sessionLogin),
    metrics: (ctx) =>
      redisBytesPerSession(ctx, {
        prefix: sessionPrefix(ctx.runId),
        existing: 1,
        count: 1000,
        login: (c) => loginOnce(c, sessionLogin),
        url: redisUrl(),
      }),
  },
  {
    name: 'jsonwebtoken-hs256-string',
    description: 'jsonwebtoken verify, HS256, string secret (how most apps call it)',
    file: 'jsonwebtoken-hs256-string.ts',
    setup: bearerLogin(tokenLogin),
  },
  {
    name: 'jsonwebtoken-hs256-keyobject',
    description: 'jsonwebtoken verify, HS256, crypto KeyObject secret',
    file: 'jsonwebtoken-hs256-keyobject.ts',
    setup: bearerLogin(tokenLogin),
  },
  {
    name: 'jose-eddsa',
    description: 'jose jwtVerify, EdDSA (Ed25519 KeyObject)',
    file: 'jose-eddsa.ts',
    setup: bearerLogin(tokenLogin),
  },
  {
    name: 'fast-jwt-hs256-cache',
    description: 'fast-jwt createVerifier, HS256, with its verification cache',
    file: 'fast-jwt-hs256-cache.ts',
    setup: bearerLogin(tokenLogin),
  },
  {
    name: 'gatehouse-bearer-eddsa',
    description: 'Gatehouse bearer token (EdDSA), memory stores, requireAuth()',
    file: 'gatehouse-bearer-eddsa.ts',
    setup: bearerLogin({ path: '/auth/login', body: { ...GATEHOUSE_CREDS, mode: 'token' } }, 'access_token', [{ path: '/auth/register', body: GATEHOUSE_CREDS, allow: [409] }]),
  },
  {
    name: 'gatehouse-bearer-eddsa-metrics',
    description: 'gatehouse-bearer-eddsa with Prometheus metrics on (request timer, cache-hit counters, store timings)',
    file: 'gatehouse-bearer-eddsa.ts',
    env: { BENCH_GATEHOUSE_METRICS: '1' },
    setup: bearerLogin({ path: '/auth/login', body: { ...GATEHOUSE_CREDS, mode: 'token' } }, 'access_token', [{ path: '/auth/register', body: GATEHOUSE_CREDS, allow: [409] }]),
  },
  {
    name: 'gatehouse-bearer-eddsa-untraced',
    description: 'gatehouse-bearer-eddsa with tracing off (`tracing: false`): the cost of the OpenTelemetry API calls without an SDK',
    file: 'gatehouse-bearer-eddsa.ts',
    env: { BENCH_GATEHOUSE_TRACING: '0' },
    setup: bearerLogin({ path: '/auth/login', body: { ...GATEHOUSE_CREDS, mode: 'token' } }, 'access_token', [{ path: '/auth/register', body: GATEHOUSE_CREDS, allow: [409] }]),
  },
  {
    name: 'gatehouse-bearer-hs256',
    description: 'Gatehouse bearer token (HS256), memory stores, requireAuth()',
    file: 'gatehouse-bearer-hs256.ts',
    setup: bearerLogin({ path: '/auth/login', body: { ...GATEHOUSE_CREDS, mode: 'token' } }, 'access_token', [{ path: '/auth/register', body: GATEHOUSE_CREDS, allow: [409] }]),
  },
  {
    name: 'gatehouse-auth-me-session',
    description: "Gatehouse's own GET /auth/me (user and session JSON) with a session cookie, memory stores",
    file: 'gatehouse-bearer-eddsa.ts',
    path: '/auth/me',
    setup: cookieLogin({ path: '/auth/login', body: GATEHOUSE_CREDS }, [{ path: '/auth/register', body: GATEHOUSE_CREDS, allow: [409] }]),
  },
  {
    name: 'gatehouse-auth-me-bearer',
    description: "Gatehouse's own GET /auth/me with an EdDSA bearer token, memory stores",
    file: 'gatehouse-bearer-eddsa.ts',
    path: '/auth/me',
    setup: bearerLogin({ path: '/auth/login', body: { ...GATEHOUSE_CREDS, mode: 'token' } }, 'access_token', [{ path: '/auth/register', body: GATEHOUSE_CREDS, allow: [409] }]),
  },
  {
    name: 'gatehouse-session-memory',
    description: 'Gatehouse cookie session, memory stores, requireAuth(); production argon2id (login storm)',
    file: 'gatehouse-session-memory.ts',
    setup: cookieLogin(GH_LOGIN, [GH_REGISTER, GH_REGISTER_STORM]),
    // Real argon2id logins of another user (so they never evict the measured session).
    storm: { login: (ctx) => loginOnce(ctx, GH_LOGIN_STORM) },
  },
  {
    name: 'gatehouse-session-sqlite',
    description: 'Gatehouse cookie session, SQLite (temporary file), requireAuth()',
    file: 'gatehouse-session-sqlite.ts',
    setup: cookieLogin(GH_LOGIN, [GH_REGISTER]),
    metrics: sessionsOnDisk((ctx) => sqliteSessionBytes(`${sqliteDir(ctx.runId)}/gatehouse.db`)),
  },
  {
    name: 'gatehouse-session-sqlite-metrics',
    description: 'gatehouse-session-sqlite with Prometheus metrics on (request timer, cache-hit counters, store timings)',
    file: 'gatehouse-session-sqlite.ts',
    env: { BENCH_GATEHOUSE_METRICS: '1' },
    setup: cookieLogin(GH_LOGIN, [GH_REGISTER]),
  },
  {
    name: 'gatehouse-session-postgres',
    description: 'Gatehouse cookie session, PostgreSQL (own schema, dropped after), requireAuth()',
    file: 'gatehouse-session-postgres.ts',
    setup: cookieLogin(GH_LOGIN, [GH_REGISTER]),
    metrics: sessionsOnDisk((ctx) => postgresSessionBytes(postgresUrl(), postgresSchema(ctx.runId))),
  },
  {
    name: 'gatehouse-session-mysql',
    description: 'Gatehouse cookie session, MariaDB/MySQL (own database, dropped after), requireAuth()',
    file: 'gatehouse-session-mysql.ts',
    setup: cookieLogin(GH_LOGIN, [GH_REGISTER]),
    metrics: sessionsOnDisk((ctx) => mysqlSessionBytes(mysqlUrl(), mysqlDatabase(ctx.runId))),
  },
  {
    name: 'gatehouse-session-redis',
    description: 'Gatehouse cookie session, sessions in Redis (own prefix, deleted after) + users in SQLite',
    file: 'gatehouse-session-redis.ts',
    setup: cookieLogin(GH_LOGIN, [GH_REGISTER]),
    // 1,000 logins spread over 400 users (2.5 sessions each, under the per-user bound), each with a
    // browser's User-Agent: device metadata and the per-user index are part of the figure.
    metrics: async (ctx) => {
      const users = 400;
      for (let u = 0; u < users; u++) await loginOnce(ctx, { ...GH_REGISTER, body: benchUser(u) });
      return redisBytesPerSession(ctx, {
        prefix: gatehousePrefix(ctx.runId),
        existing: 1,
        count: 1000,
        login: (c, seq) => loginOnce(c, { ...GH_LOGIN, body: benchUser(seq % users) }),
        url: redisUrl(),
      });
    },
  },
  {
    name: 'gatehouse-node-http-session',
    description: 'Gatehouse cookie session, memory stores, bare node:http through createGatehouseNode',
    file: 'gatehouse-node-http-session.ts',
    setup: cookieLogin(GH_LOGIN, [GH_REGISTER]),
  },
  {
    name: 'gatehouse-node-http-bearer',
    description: 'Gatehouse bearer token (EdDSA), memory stores, bare node:http through createGatehouseNode',
    file: 'gatehouse-node-http-bearer.ts',
    setup: bearerLogin({ ...GH_LOGIN, body: { ...GATEHOUSE_CREDS, mode: 'token' } }, 'access_token', [GH_REGISTER]),
  },
  {
    name: 'gatehouse-node-http-dpop',
    description: 'Gatehouse DPoP-bound token (EdDSA token, ES256 client key): a fresh proof per request, checked by signature, htm/htu/iat/ath and a jti never seen before; memory stores, bare node:http (same server as node-http-bearer)',
    file: 'gatehouse-node-http-bearer.ts',
    setup: dpopLogin(GH_REGISTER, { ...GH_LOGIN, body: { ...GATEHOUSE_CREDS, mode: 'token' } }, 'http://127.0.0.1', '/me'),
  },
];

/**
 * `gatehouse serve` as shipped (bin/gatehouse.js from dist/, helmet headers, one JSON log line per
 * request appended to a file), measured on its own GET /auth/me. Names: `gatehouse-serve-<transport>-<store>`.
 */
/**
 * The shipped server's storm signs in STORM_USERS different users in turn (a storm is many people
 * signing in): with one user, every login past the per-user bound (10) would also evict and revoke
 * that user's oldest session, a cost of its own.
 */
const STORM_USERS = 32;
const stormUser = (i: number) => ({ email: `storm-${i % STORM_USERS}@example.com`, password: GATEHOUSE_CREDS.password });
const STORM_REGISTRATIONS = Array.from({ length: STORM_USERS }, (_, i) => ({ ...GH_REGISTER, body: stormUser(i) }));

function serveVariant(transport: 'cookie' | 'bearer', store: 'sqlite' | 'redis', storm = false): VariantDef {
  const login = transport === 'cookie' ? cookieLogin(GH_LOGIN, [GH_REGISTER, ...(storm ? STORM_REGISTRATIONS : [])]) : bearerLogin({ ...GH_LOGIN, body: { ...GATEHOUSE_CREDS, mode: 'token' } }, 'access_token', [GH_REGISTER]);
  return {
    name: `gatehouse-serve-${transport}-${store}`,
    description: `\`gatehouse serve\` as shipped (helmet headers, request log to a file), ${transport === 'cookie' ? 'cookie session' : 'EdDSA bearer token'}, ${store === 'sqlite' ? 'SQLite' : 'sessions in Redis + users in SQLite'}, GET /auth/me${storm ? '; production argon2id (login storm)' : ''}`,
    file: 'gatehouse-serve.ts',
    path: '/auth/me',
    env: { BENCH_SERVE_STORE: store },
    build: true,
    setup: login,
    ...(storm ? { storm: { login: (ctx: VariantContext, seq: number) => loginOnce(ctx, { ...GH_LOGIN, body: stormUser(seq) }) } } : {}),
  };
}
variants.push(serveVariant('cookie', 'sqlite', true), serveVariant('bearer', 'sqlite'), serveVariant('cookie', 'redis'), serveVariant('bearer', 'redis'), {
  // The request log's cost: the same server with request lines off.
  ...serveVariant('cookie', 'sqlite'),
  name: 'gatehouse-serve-cookie-sqlite-nolog',
  description: '`gatehouse-serve-cookie-sqlite` with GATEHOUSE_LOG_LEVEL=warn (no request lines): the baseline of the request log\'s cost',
  env: { BENCH_SERVE_STORE: 'sqlite', GATEHOUSE_LOG_LEVEL: 'warn' },
});

export function findVariant(name: string): VariantDef | undefined {
  return variants.find((v) => v.name === name);
}
