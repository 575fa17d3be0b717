/**
 * What the admin console's live panel costs the stores: counting live sessions per mode
 * (`countLiveSessions`) and sign-ins of the last five minutes (`countEvents`), on PostgreSQL (COUNT over
 * an index-less scan of `sessions`, GROUP BY on the audit trail's (type, at) index) and on Redis
 * (SCAN of every user's session hash), with the same sessions in both, side by side in one run.
 * The console reuses a session count for 10 s, so this is at most one count per instance per 10 s.
 *
 *   node --import tsx bench/admin-counts.ts [--sessions 10000] [--events 50000] [--runs 5]
 *
 * Needs the PostgreSQL and Redis of test/support/services.ts; creates and drops its own schema and prefix.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { ownedId } from '../src/ids.js';
import type { AuditEvent, SessionRecord, Stores } from '../src/ports.js';
import { openStores } from '../src/stores/open.js';
import { deletePrefix, dropSchema, requirePostgres, requireRedis, testPrefix, testSchema } from '../test/support/services.js';

const arg = (name: string, d: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : d;
};
const N = arg('sessions', 10_000);
const EVENTS = arg('events', 50_000);
const RUNS = arg('runs', 5);
const PER_USER = 2.5;
const id = () => randomBytes(16).toString('base64url');

function session(userId: string, now: number, i: number): SessionRecord {
  return {
    id: ownedId(id(), userId), userId, secretHash: new Uint8Array(randomBytes(32)), mode: i % 3 === 0 ? 'token' : 'session',
    createdAt: now, lastSeenAt: now, idleExpiresAt: now + 3_600_000, expiresAt: now + 86_400_000, authAt: now, amr: ['pwd'], acr: 'aal1',
    credentialVersion: 0, ip: '203.0.113.7', device: { browser: 'Firefox', os: 'Linux', type: 'desktop' }, binding: null,
  };
}

async function fill(stores: Stores, now: number, users: string[]): Promise<void> {
  for (let i = 0; i < users.length; i += 500) {
    await Promise.all(users.slice(i, i + 500).map((u) => stores.users.createUser({ id: u, email: `${u}@example.test`, emailCanonical: `${u}@example.test`, passwordHash: 'x', createdAt: now, disabledAt: null, emailVerifiedAt: null, credentialVersion: 0, admin: false })));
  }
  const all = Array.from({ length: N }, (_, i) => session(users[Math.floor(i / PER_USER)]!, now, i));
  for (let i = 0; i < all.length; i += 500) await Promise.all(all.slice(i, i + 500).map((s) => stores.sessions.createSession(s, { maxPerUser: 100 })));
}

async function time(fn: () => Promise<unknown>): Promise<{ medianMs: number; result: unknown }> {
  const ms: number[] = [];
  let result: unknown;
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    result = await fn();
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  return { medianMs: Math.round(ms[Math.floor(ms.length / 2)]! * 100) / 100, result };
}

const pg = await requirePostgres();
const redis = await requireRedis();
if (!pg || !redis) throw new Error('needs PostgreSQL and Redis (see test/support/services.ts)');
const schema = testSchema();
const prefix = testPrefix();
const sqlOnly = await openStores({ databaseUrl: pg, schema, timeoutMs: 60_000 });
const withRedis = await openStores({ databaseUrl: pg, schema, redisUrl: redis, redisPrefix: prefix, timeoutMs: 60_000 });
try {
  const now = Date.now();
  const users = Array.from({ length: Math.ceil(N / PER_USER) }, () => `u${id().slice(0, 12)}`);
  await fill(sqlOnly, now, users);
  // The same sessions in Redis (users are shared: both bundles use the one schema).
  const all = Array.from({ length: N }, (_, i) => session(users[Math.floor(i / PER_USER)]!, now, i));
  for (let i = 0; i < all.length; i += 500) await Promise.all(all.slice(i, i + 500).map((s) => withRedis.sessions.createSession(s, { maxPerUser: 100 })));
  const types: AuditEvent['type'][] = ['login.succeeded', 'login.failed', 'mfa.required', 'refresh', 'logout'];
  const events: AuditEvent[] = Array.from({ length: EVENTS }, (_, i) => ({
    id: `${(now - EVENTS + i).toString(32).padStart(10, '0')}${String(i).padStart(10, '0')}`, at: now - EVENTS * 60 + i * 60, type: types[i % types.length]!,
    userId: users[i % users.length]!, sessionId: null, ip: '203.0.113.7', userAgent: null, detail: null,
  }));
  for (let i = 0; i < events.length; i += 500) await Promise.all(events.slice(i, i + 500).map((e) => sqlOnly.audit.appendEvent(e)));

  const pgCount = await time(() => sqlOnly.sessions.countLiveSessions(now + 1000));
  const redisCount = await time(() => withRedis.sessions.countLiveSessions(now + 1000));
  const logins = await time(() => sqlOnly.audit.countEvents(now - 5 * 60_000, ['login.succeeded', 'login.failed', 'mfa.required']));
  const out = {
    sessions: N,
    users: users.length,
    auditEvents: EVENTS,
    runs: RUNS,
    countLiveSessions: { postgres: pgCount, redis: redisCount, redisOverPostgres: Math.round((redisCount.medianMs / pgCount.medianMs) * 100) / 100 },
    countEventsLast5Min: logins,
  };
  console.log(JSON.stringify(out, null, 2));
} finally {
  await withRedis.close();
  await sqlOnly.close();
  const { Redis } = await import('ioredis');
  const r = new Redis(redis);
  await deletePrefix(r as never, prefix);
  r.disconnect();
  await dropSchema(pg, schema);
}
