/**
 * Bytes per session in Redis, from `INFO memory` (used_memory delta / sessions), on a redis-server
 * of our own so nothing else moves the figure:
 *   - Gatehouse: 10,000 sessions (2.5 per user) with device and IP, through openRedisStores;
 *     includes the per-user hash (the index) and its key expiry.
 *   - connect-redis 9 (express-session's store API, node-redis 5) holding an equivalent session:
 *     the cookie plus user id, device, IP and timestamps, as the application would put it.
 *
 *   node --import tsx bench/redis-bytes.ts [--sessions 10000] [--listpack-value 128] [--json]
 */
import { randomBytes } from 'node:crypto';
import { RedisStore } from 'connect-redis';
import { createClient } from 'redis';
import { ownedId } from '../src/ids.js';
import { openRedisStores } from '../src/stores/redis/index.js';
import type { SessionRecord } from '../src/ports.js';
import { startRedisServer } from '../test/support/redis-cluster.js';

const arg = (name: string, d: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : d;
};
const N = arg('sessions', 10_000);
const PER_USER = 2.5;
const id = () => randomBytes(16).toString('base64url'); // the core's 128-bit ids: 22 characters

const DEVICES = [
  { browser: 'Chrome', os: 'Windows', type: 'desktop' },
  { browser: 'Safari', os: 'iOS', type: 'mobile' },
  { browser: 'Firefox', os: 'Linux', type: 'desktop' },
  { browser: 'Chrome', os: 'Android', type: 'mobile' },
  { browser: 'Edge', os: 'macOS', type: 'desktop' },
];
function ip(i: number): string {
  if (i % 5 === 0) return `2001:db8:${(i % 65536).toString(16)}:${randomBytes(2).toString('hex')}::${(i % 4096).toString(16)}`;
  const b = randomBytes(4);
  return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
}

function sessions(): SessionRecord[] {
  const now = Date.now();
  const users = Array.from({ length: Math.ceil(N / PER_USER) }, id);
  return Array.from({ length: N }, (_, i) => ({
    id: ownedId(id(), users[i % users.length]!), // session ids name their user (src/ids.ts)
    userId: users[i % users.length]!,
    secretHash: randomBytes(32),
    mode: i % 4 === 0 ? 'token' : 'session',
    createdAt: now - (i % 1000) * 1000,
    lastSeenAt: now,
    idleExpiresAt: now + 7 * 86_400_000,
    expiresAt: now + 30 * 86_400_000,
    authAt: now - (i % 1000) * 1000,
    amr: ['pwd'],
    acr: 'aal1' as const,
    credentialVersion: 0,
    ip: ip(i),
    device: DEVICES[i % DEVICES.length]!,
    binding: null,
  }));
}

const usedMemory = (info: string) => Number(/used_memory:(\d+)/.exec(info)![1]);

async function gatehouse(url: string, list: SessionRecord[]): Promise<number> {
  const stores = await openRedisStores({ url, prefix: 'gh:' });
  try {
    await stores.redis.flushall();
    // Optional server tuning: let per-user hashes with ~100-byte values stay listpack-encoded.
    const lp = arg('listpack-value', 0);
    if (lp > 0) await stores.redis.config('SET', 'hash-max-listpack-value', String(lp));
    const before = usedMemory(await stores.redis.info('memory'));
    for (let i = 0; i < list.length; i += 200) {
      await Promise.all(list.slice(i, i + 200).map((s) => stores.sessions.createSession(s, { maxPerUser: 10 })));
    }
    const after = usedMemory(await stores.redis.info('memory'));
    return (after - before) / list.length;
  } finally {
    await stores.close();
  }
}

async function connectRedis(url: string, list: SessionRecord[]): Promise<number> {
  const client = createClient({ url });
  await client.connect();
  try {
    await client.flushAll();
    const store = new RedisStore({ client, prefix: 'sess:' });
    const before = usedMemory(await client.info('memory'));
    for (let i = 0; i < list.length; i += 200) {
      await Promise.all(
        list.slice(i, i + 200).map((s) => {
          // express-session's own ids are 32 characters; the session carries what the app needs.
          const sid = randomBytes(24).toString('base64url');
          const sess = {
            cookie: { originalMaxAge: 30 * 86_400_000, expires: new Date(s.expiresAt), secure: true, httpOnly: true, path: '/', sameSite: 'lax' },
            userId: s.userId,
            createdAt: s.createdAt,
            authAt: s.authAt,
            ip: s.ip,
            device: s.device,
          };
          return new Promise<void>((resolve, reject) => store.set(sid, sess as never, (e?: unknown) => (e ? reject(e) : resolve())));
        }),
      );
    }
    const after = usedMemory(await client.info('memory'));
    return (after - before) / list.length;
  } finally {
    await client.quit();
  }
}

const server = await startRedisServer();
try {
  const list = sessions();
  const gh = await gatehouse(server.url, list);
  const cr = await connectRedis(server.url, list);
  const result = { sessions: N, sessionsPerUser: PER_USER, hashMaxListpackValue: arg('listpack-value', 64), gatehouseBytesPerSession: Math.round(gh), connectRedisBytesPerSession: Math.round(cr) };
  if (process.argv.includes('--json')) console.log(JSON.stringify(result));
  else {
    console.log(`Redis ${N} sessions (${PER_USER} per user), INFO memory used_memory delta per session:`);
    console.log(`  gatehouse (one hash per user)        : ${result.gatehouseBytesPerSession} B`);
    console.log(`  connect-redis (express-session store):  ${result.connectRedisBytesPerSession} B`);
  }
} finally {
  await server.stop();
}
