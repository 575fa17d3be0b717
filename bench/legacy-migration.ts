/**
 * How many express-session sessions a migration run moves to Gatehouse per second, on Redis.
 *
 * Writes N old sessions in connect-redis's format (`sess:<sid>` → JSON with `cookie.expires`, key TTL)
 * under a prefix of its own, then sends each signed `connect.sid` cookie once to GET /auth/me of a
 * Gatehouse node:http server with migration on, `--concurrency` requests at a time. Every request must
 * answer 200 with a new session cookie; the old keys are removed afterwards.
 *
 *   node --import tsx bench/legacy-migration.ts [--sessions 2000] [--concurrency 16] [--redis redis://127.0.0.1:6379] [--json]
 *
 * Gatehouse's own sessions live in the memory stores here, so the figure is the migration step itself
 * (cookie check, read, Lua claim, session create, marker update, audit) with its Redis round trips.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { createGatehouseNode } from '../src/http/node.js';
import { ConnectRedisSource } from '../src/stores/legacy/connect-redis.js';
import { createMemoryStores } from '../src/stores/memory/index.js';

const arg = (name: string, d: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : d;
};
const N = Number(arg('sessions', '2000'));
const CONCURRENCY = Number(arg('concurrency', '16'));
const REDIS = arg('redis', process.env.GATEHOUSE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379');
const SECRET = 'the express-session secret of the old app';
const HOUR = 3_600_000;

const sign = (sid: string) => `s:${sid}.${createHmac('sha256', SECRET).update(sid).digest('base64').replace(/=+$/, '')}`;

async function main() {
  const prefix = `ghbench:${randomBytes(6).toString('hex')}:sess:`;
  const redis = new Redis(REDIS);
  const stores = createMemoryStores();
  const cookies: string[] = [];
  const now = Date.now();
  const pipe = redis.pipeline();
  for (let i = 0; i < N; i++) {
    const userId = `user${i}`;
    await stores.users.createUser({ id: userId, email: `${userId}@example.com`, emailCanonical: `${userId}@example.com`, passwordHash: 'x', createdAt: now, disabledAt: null, emailVerifiedAt: null, credentialVersion: 0, admin: false });
    const sid = randomBytes(24).toString('base64url');
    const value = { cookie: { originalMaxAge: HOUR, expires: new Date(now + HOUR).toISOString(), httpOnly: true, path: '/' }, userId };
    pipe.set(prefix + sid, JSON.stringify(value), 'PX', HOUR);
    cookies.push(`connect.sid=${encodeURIComponent(sign(sid))}`);
  }
  await pipe.exec();

  const source = new ConnectRedisSource(new Redis(REDIS), { prefix });
  const gh = await createGatehouseNode({
    stores,
    config: { databaseUrl: 'memory:', rateLimits: { enabled: false }, passwordHashing: { memoryCost: 1024, timeCost: 1, parallelism: 1, unsafeAllowWeak: true } },
    legacy: { source, secrets: [SECRET], mapUser: async (d) => (typeof d.userId === 'string' ? d.userId : null) },
  });
  const server = createServer((req, res) => {
    if (!gh.handle(req, res)) res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/auth/me`;

  const before = await source.remaining();
  let next = 0;
  let ok = 0;
  let failed = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < N) {
        const cookie = cookies[next++]!;
        const r = await fetch(url, { headers: { cookie } });
        await r.arrayBuffer();
        if (r.status === 200 && r.headers.getSetCookie().some((c) => c.startsWith('__Host-gatehouse='))) ok++;
        else failed++;
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const after = await source.remaining();

  const result = { sessions: N, concurrency: CONCURRENCY, migrated: ok, failed, seconds: Math.round(seconds * 1000) / 1000, perSecond: Math.round(ok / seconds), remainingBefore: before, remainingAfter: after };
  if (process.argv.includes('--json')) console.log(JSON.stringify(result));
  else console.log(`migrated ${ok}/${N} old sessions in ${result.seconds}s with ${CONCURRENCY} in flight: ${result.perSecond} sessions/s (old sessions left: ${before} → ${after}; failed: ${failed})`);

  server.close();
  server.closeAllConnections();
  await gh.close();
  let cursor = '0';
  do {
    const [c, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = c;
    if (keys.length) await redis.del(...keys);
  } while (cursor !== '0');
  await source.close();
  await redis.quit();
  if (failed > 0) process.exitCode = 1;
}

await main();
