/**
 * Proof-of-possession figures, measured in-process beside the HTTP variants of `npm run bench`:
 *
 * 1. What a DPoP-bound token adds per request over a plain bearer token: Gatehouse's own request
 *    authentication (`SessionControl.authenticateBearer`) timed for both on the same core, one request
 *    at a time (latency) and 50 at a time (cost per request under load), with proof ids kept in
 *    process memory and, when Redis answers, in Redis (one SET NX per request, as in a deployment).
 * 2. The traffic DBSC adds per hour of use: a spec-following DBSC browser against a real server on a
 *    moved clock, one request every 30 s for an hour, with every byte on the wire counted (refresh
 *    requests and answers, and the bound cookie each request carries).
 *
 * Run alone: `node --import tsx bench/pop.ts` (prints JSON). `npm run bench` runs it after the variants.
 */
import { createHash, randomBytes } from 'node:crypto';
import { request as httpRequest, createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CompactSign, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { parseItem, parseList } from 'structured-headers';
import { createGatehouseCore } from '../src/http/gatehouse.js';
import { createGatehouseNode } from '../src/http/node.js';
import type { Clock, Stores } from '../src/ports.js';
import { createMemoryStores } from '../src/stores/memory/index.js';

const PUBLIC = 'http://127.0.0.1';
const CHEAP = { memoryCost: 1024, timeCost: 1, parallelism: 1, unsafeAllowWeak: true } as const;
const EMAIL = 'pop-bench@example.com';
const PASSWORD = 'correct horse battery staple';

class MovableClock implements Clock {
  t = Date.now();
  now(): number {
    return this.t;
  }
}

export interface DpopCost {
  requests: number;
  /** µs per request, one at a time. */
  sequential: { bearer: number; dpop: number; added: number };
  /** µs per request with 50 in flight (what a busy server pays per request). */
  concurrent: { bearer: number; dpop: number; added: number };
  /** Proof ids in Redis (one SET NX per request), when Redis answered. */
  redis?: { sequential: { dpop: number; added: number }; concurrent: { dpop: number; added: number } };
}

async function proofKey(): Promise<{ privateKey: CryptoKey; jwk: JWK }> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  return { privateKey, jwk: await exportJWK(publicKey) };
}

function proof(k: { privateKey: CryptoKey; jwk: JWK }, htm: string, htu: string, token?: string): Promise<string> {
  const claims: Record<string, unknown> = { htm, htu, iat: Math.floor(Date.now() / 1000), jti: randomBytes(12).toString('base64url') };
  if (token) claims.ath = createHash('sha256').update(token).digest('base64url');
  return new SignJWT(claims).setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk: k.jwk }).sign(k.privateKey);
}

/** Times `op` over `n` calls with `concurrency` in flight; µs per call. */
async function timeIt(n: number, concurrency: number, op: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) await op(next++);
    }),
  );
  return Number(process.hrtime.bigint() - t0) / 1000 / n;
}

async function costOn(stores: Stores, n: number): Promise<{ sequential: { bearer: number; dpop: number }; concurrent: { bearer: number; dpop: number } }> {
  const gh = await createGatehouseCore({ stores, config: { databaseUrl: 'memory:', publicUrl: PUBLIC, passwordHashing: CHEAP, rateLimits: { enabled: false }, logLevel: 'silent' } });
  try {
    const sessions = gh.core.sessions;
    const meta = { ip: '127.0.0.1', userAgent: null };
    await gh.core.lifecycle.register(EMAIL, PASSWORD, meta, async () => false).catch(() => undefined);
    const plain = await gh.core.signIn.password(EMAIL, PASSWORD, 'token', meta);
    const key = await proofKey();
    const check = await gh.core.dpop.check({ proof: await proof(key, 'POST', `${PUBLIC}/auth/login`), method: 'POST', url: `${PUBLIC}/auth/login` });
    if (!check.ok) throw new Error(`DPoP login proof refused: ${check.reason}`);
    const bound = await gh.core.signIn.password(EMAIL, PASSWORD, 'token', meta, { dpopJkt: check.jkt });
    if (!plain.ok || plain.mode !== 'token' || !bound.ok || bound.mode !== 'token') throw new Error('login failed');
    const bearer = plain.grant.accessToken;
    const token = bound.grant.accessToken;
    const url = `${PUBLIC}/me`;
    // Proofs are single-use: made ahead, one per timed call (signing is the client's cost, not timed).
    const proofs = await Promise.all(Array.from({ length: 4 * n + 200 }, () => proof(key, 'GET', url, token)));
    let p = 0;
    const dpop = async () => {
      const r = await sessions.authenticateBearer(token, { scheme: 'DPoP', dpop: { proof: proofs[p++], method: 'GET', url } });
      if (!r || 'refused' in r) throw new Error(`a DPoP request was refused: ${r ? r.reason : 'invalid token'}`);
    };
    const plainOp = async () => {
      // The steady state of a bearer token: the cached path, and the async one when it cannot decide.
      const r = sessions.authenticateBearerCached(bearer) ?? (await sessions.authenticateBearer(bearer));
      if (!r || 'refused' in r) throw new Error('a bearer request was refused');
    };
    for (let i = 0; i < 200; i++) {
      await plainOp();
      await dpop();
    }
    return {
      sequential: { bearer: await timeIt(n, 1, plainOp), dpop: await timeIt(n, 1, dpop) },
      concurrent: { bearer: await timeIt(n, 50, plainOp), dpop: await timeIt(n, 50, dpop) },
    };
  } finally {
    await gh.close();
  }
}

const round1 = (x: number) => Math.round(x * 10) / 10;

export async function dpopCost(n = 4000, redisUrl: string | null = null): Promise<DpopCost> {
  const mem = await costOn(createMemoryStores(), n);
  const out: DpopCost = {
    requests: n,
    sequential: { bearer: round1(mem.sequential.bearer), dpop: round1(mem.sequential.dpop), added: round1(mem.sequential.dpop - mem.sequential.bearer) },
    concurrent: { bearer: round1(mem.concurrent.bearer), dpop: round1(mem.concurrent.dpop), added: round1(mem.concurrent.dpop - mem.concurrent.bearer) },
  };
  if (redisUrl) {
    const { openRedisStores } = await import('../src/stores/redis/index.js');
    const prefix = `gh:bench-pop-${process.pid}:`;
    const redis = await openRedisStores({ url: redisUrl, prefix });
    try {
      const r = await costOn({ ...createMemoryStores(), proofs: redis.proofs }, n);
      out.redis = {
        sequential: { dpop: round1(r.sequential.dpop), added: round1(r.sequential.dpop - mem.sequential.bearer) },
        concurrent: { dpop: round1(r.concurrent.dpop), added: round1(r.concurrent.dpop - mem.concurrent.bearer) },
      };
    } finally {
      const keys = await redis.redis.keys(`${prefix}*`);
      if (keys.length) for (const k of keys) await redis.redis.del(k);
      await redis.close();
    }
  }
  return out;
}

// ------------------------------------------------------------------------------------------------ DBSC

export interface DbscTraffic {
  /** Simulated use: one request every `intervalS` for an hour, bound cookie lifetime `cookieTtlS`. */
  intervalS: number;
  cookieTtlS: number;
  requestsPerHour: number;
  refreshesPerHour: number;
  /** HTTP requests the refreshes took (a refresh is one request when the browser holds a challenge, else two). */
  refreshRequestsPerHour: number;
  /** Bytes on the wire of those refresh exchanges (requests and answers, headers and bodies). */
  refreshBytesPerHour: number;
  /** Bytes the bound cookie adds to the requests themselves (its `; name=value` in each Cookie header). */
  cookieBytesPerHour: number;
  /** The registration exchange, once per sign-in. */
  registrationBytes: number;
}

interface Wire {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  bytes: number;
}

/** One request on a fresh connection, counting every byte both ways. */
function send(port: number, method: string, path: string, headers: Record<string, string>, body?: string): Promise<Wire> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers: { ...headers, ...(body ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) } : {}) }, agent: false });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const s = req.socket;
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), bytes: (s?.bytesWritten ?? 0) + (s?.bytesRead ?? 0) });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

export async function dbscTraffic(opts: { intervalS?: number; cookieTtlS?: number } = {}): Promise<DbscTraffic> {
  const intervalS = opts.intervalS ?? 30;
  const cookieTtlS = opts.cookieTtlS ?? 600;
  const clock = new MovableClock();
  const gh = await createGatehouseNode({
    stores: createMemoryStores(),
    clock,
    config: { databaseUrl: 'memory:', passwordHashing: CHEAP, rateLimits: { enabled: false }, logLevel: 'silent', dbsc: { cookieTtl: cookieTtlS * 1000 }, session: { idleTtl: '2h', absoluteTtl: '12h' } },
  });
  const server = createServer((req, res) => {
    if (gh.handle(req, res)) return;
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  try {
    const jar = new Map<string, { value: string; expiresAt: number }>();
    const keep = (w: Wire) => {
      for (const sc of ([] as string[]).concat(w.headers['set-cookie'] ?? [])) {
        const [pair] = sc.split(';');
        const eq = pair!.indexOf('=');
        const maxAge = /Max-Age=(\d+)/i.exec(sc);
        jar.set(pair!.slice(0, eq), { value: pair!.slice(eq + 1), expiresAt: maxAge ? clock.now() + Number(maxAge[1]) * 1000 : Infinity });
      }
    };
    const cookie = (names?: string[]) =>
      [...jar]
        .filter(([n, c]) => c.expiresAt > clock.now() && (!names || names.includes(n)))
        .map(([n, c]) => `${n}=${c.value}`)
        .join('; ');
    await send(port, 'POST', '/auth/register', {}, JSON.stringify({ email: EMAIL, password: PASSWORD }));
    const login = await send(port, 'POST', '/auth/login', {}, JSON.stringify({ email: EMAIL, password: PASSWORD }));
    keep(login);
    const [offer] = parseList(String(login.headers['secure-session-registration']));
    const params = offer![1];
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const jwk = await exportJWK(publicKey);
    const sign = (payload: Record<string, unknown>, header: Record<string, unknown>) =>
      new CompactSign(new TextEncoder().encode(JSON.stringify(payload))).setProtectedHeader({ alg: 'ES256', typ: 'dbsc+jwt', ...header } as never).sign(privateKey);
    const reg = await send(port, String('POST'), String(params.get('path')), { cookie: cookie(), 'secure-session-response': `"${await sign({ jti: String(params.get('challenge')) }, { jwk })}"` });
    if (reg.status !== 200) throw new Error(`registration answered ${reg.status}`);
    keep(reg);
    const instructions = JSON.parse(reg.body) as { session_identifier: string; refresh_url: string; credentials: Array<{ name: string }> };
    const boundName = instructions.credentials[0]!.name;
    let cached: string | null = null;
    let refreshes = 0;
    let refreshRequests = 0;
    let refreshBytes = 0;
    let cookieBytes = 0;
    const requests = Math.floor(3600 / intervalS);
    for (let i = 0; i < requests; i++) {
      clock.t += intervalS * 1000;
      if (!jar.get(boundName) || jar.get(boundName)!.expiresAt <= clock.now()) {
        // As a browser does: hold the request, refresh, then send it.
        refreshes++;
        const sid = `"${instructions.session_identifier}"`;
        let challenge = cached;
        if (challenge === null) {
          const first = await send(port, 'POST', instructions.refresh_url, { cookie: cookie(['__Host-gatehouse']), 'sec-secure-session-id': sid });
          refreshRequests++;
          refreshBytes += first.bytes;
          challenge = String(parseItem(String(first.headers['secure-session-challenge']))[0]);
        }
        const done = await send(port, 'POST', instructions.refresh_url, { cookie: cookie(['__Host-gatehouse']), 'sec-secure-session-id': sid, 'secure-session-response': `"${await sign({ jti: challenge }, {})}"` });
        refreshRequests++;
        refreshBytes += done.bytes;
        if (done.status !== 200) throw new Error(`refresh answered ${done.status}`);
        keep(done);
        const next = done.headers['secure-session-challenge'];
        cached = next ? String(parseItem(String(next))[0]) : null;
      }
      const bound = jar.get(boundName)!;
      cookieBytes += `; ${boundName}=${bound.value}`.length;
      const me = await send(port, 'GET', '/auth/me', { cookie: cookie() });
      if (me.status !== 200) throw new Error(`a request of the bound session answered ${me.status}`);
    }
    return { intervalS, cookieTtlS, requestsPerHour: requests, refreshesPerHour: refreshes, refreshRequestsPerHour: refreshRequests, refreshBytesPerHour: refreshBytes, cookieBytesPerHour: cookieBytes, registrationBytes: reg.bytes };
  } finally {
    await new Promise((r) => server.close(r));
    await gh.close();
  }
}

export interface PopResults {
  dpop: DpopCost;
  dbsc: DbscTraffic[];
}

export async function measurePop(redisUrl: string | null): Promise<PopResults> {
  return { dpop: await dpopCost(4000, redisUrl), dbsc: [await dbscTraffic(), await dbscTraffic({ cookieTtlS: 300 })] };
}

export function popMarkdown(r: PopResults): string {
  const d = r.dpop;
  const lines = [
    '## Proof of possession',
    '',
    `In-process, ${d.requests} requests each, Gatehouse's request authentication only (no HTTP): what a DPoP-bound token (ES256 proof per request) costs over a plain bearer token.`,
    '',
    '| | bearer µs/request | DPoP µs/request | added µs |',
    '|---|---:|---:|---:|',
    `| one at a time, proof ids in memory | ${d.sequential.bearer} | ${d.sequential.dpop} | ${d.sequential.added} |`,
    `| 50 in flight, proof ids in memory | ${d.concurrent.bearer} | ${d.concurrent.dpop} | ${d.concurrent.added} |`,
    ...(d.redis
      ? [
          `| one at a time, proof ids in Redis | ${d.sequential.bearer} | ${d.redis.sequential.dpop} | ${d.redis.sequential.added} |`,
          `| 50 in flight, proof ids in Redis | ${d.concurrent.bearer} | ${d.redis.concurrent.dpop} | ${d.redis.concurrent.added} |`,
        ]
      : []),
    '',
    'DBSC: one request every 30 s for an hour, counted on the wire (refreshes as a browser makes them; a refresh is one request when the previous one handed out the next challenge).',
    '',
    '| bound cookie lifetime | refreshes/h | refresh requests/h | refresh bytes/h | bound-cookie bytes in requests/h | registration bytes (once) |',
    '|---:|---:|---:|---:|---:|---:|',
    ...r.dbsc.map((x) => `| ${x.cookieTtlS / 60} min | ${x.refreshesPerHour} | ${x.refreshRequestsPerHour} | ${x.refreshBytesPerHour} | ${x.cookieBytesPerHour} | ${x.registrationBytes} |`),
    '',
  ];
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const redis = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
  let url: string | null = redis;
  try {
    const { pingRedis } = await import('../test/support/services.js');
    const u = new URL(redis);
    await pingRedis(u.hostname, Number(u.port || 6379));
  } catch {
    url = null;
  }
  const r = await measurePop(url);
  process.stdout.write(JSON.stringify(r, null, 2) + '\n' + popMarkdown(r));
}
