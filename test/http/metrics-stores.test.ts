/**
 * Store metrics on real stores opened from their URLs: every store call is timed under the store's
 * kind and the `port.method` operation, live sessions are sampled per mode from the store, and a
 * store outage is counted as an error of that operation.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { Redis } from 'ioredis';
import { resolveConfig, type GatehouseConfigInput } from '../../src/config.js';
import { createServerApp } from '../../src/server/app.js';
import { createLogger } from '../../src/server/logger.js';
import { parseExposition, type Samples } from '../support/metrics.js';
import { CHEAP_HASHING, Client, GOOD_PASSWORD, uniqueEmail } from '../support/server.js';
import {
  createTestDatabase, deletePrefix, dropDatabase, dropSchema, MYSQL_URL, POSTGRES_URL, REDIS_URL, requireMysql, requirePostgres, requireRedis, skipReason, testPrefix, testSchema,
} from '../support/services.js';

const TOKEN = 'store-metrics-test-token-0123456789abcdef';

/** Starts the server on stores opened from `config`, registers and signs in twice (cookie, token), and scrapes. */
async function exercise(config: GatehouseConfigInput): Promise<Samples> {
  const c = resolveConfig({ passwordHashing: CHEAP_HASHING, rateLimits: { enabled: false }, logLevel: 'silent', metrics: { token: TOKEN }, ...config });
  const srv = await createServerApp({ config: c, logger: createLogger('silent') });
  try {
    const url = `http://127.0.0.1:${await srv.listen(0, '127.0.0.1')}`;
    const email = uniqueEmail('store-metrics');
    assert.equal((await new Client(url).req('POST', '/auth/register', { json: { email, password: GOOD_PASSWORD } })).status, 201);
    assert.equal((await new Client(url).req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD } })).status, 200);
    assert.equal((await new Client(url).req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD, mode: 'token' } })).status, 200);
    const r = await new Client(url).req('GET', '/metrics', { bearer: TOKEN });
    assert.equal(r.status, 200);
    return parseExposition(r.text);
  } finally {
    await srv.close();
  }
}

function assertTimed(s: Samples, store: string, operation: string, atLeast = 1): void {
  const k = `gatehouse_store_operation_duration_seconds_count{store="${store}",operation="${operation}"}`;
  const n = s.get(k) ?? 0;
  assert.ok(n >= atLeast, `${k} = ${n}; timed: ${[...s.keys()].filter((x) => x.startsWith('gatehouse_store_operation_duration_seconds_count')).join('\n')}`);
  const sum = s.get(k.replace('_count', '_sum'))!;
  assert.ok(sum > 0 && Number.isFinite(sum), 'a positive duration sum');
  assert.equal(s.get(k.replace('_count{', '_bucket{le="+Inf",')), n, 'the +Inf bucket holds every call');
}

const activeSessions = (s: Samples) => ({ session: s.get('gatehouse_active_sessions{mode="session"}'), token: s.get('gatehouse_active_sessions{mode="token"}') });

async function needs(t: TestContext, what: string, url: string, probe: () => Promise<string | null>): Promise<string | null> {
  const found = await probe();
  if (!found) t.skip(skipReason(what, url));
  return found;
}

describe('store metrics per store', () => {
  test('memory', async () => {
    const s = await exercise({ databaseUrl: 'memory:' });
    assertTimed(s, 'memory', 'users.createUser');
    assertTimed(s, 'memory', 'sessions.createSession', 2);
    assertTimed(s, 'memory', 'refreshTokens.createRefreshToken');
    assert.deepEqual(activeSessions(s), { session: 1, token: 1 });
  });

  test('SQLite', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-store-metrics-'));
    try {
      const s = await exercise({ databaseUrl: `sqlite:${join(dir, 'gh.db')}` });
      assertTimed(s, 'sqlite', 'users.createUser');
      assertTimed(s, 'sqlite', 'users.getUserByEmail', 2);
      assertTimed(s, 'sqlite', 'sessions.createSession', 2);
      assertTimed(s, 'sqlite', 'audit.appendEvent', 3);
      assert.deepEqual(activeSessions(s), { session: 1, token: 1 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('PostgreSQL with Redis: users in Postgres, sessions and refresh tokens in Redis', async (t) => {
    const pgUrl = await needs(t, 'PostgreSQL', POSTGRES_URL, requirePostgres);
    const redisUrl = pgUrl && (await needs(t, 'Redis', REDIS_URL, requireRedis));
    if (!pgUrl || !redisUrl) return;
    const schema = testSchema();
    const prefix = testPrefix();
    try {
      const s = await exercise({ databaseUrl: pgUrl, databaseSchema: schema, redisUrl, redisPrefix: prefix });
      assertTimed(s, 'postgres', 'users.createUser');
      assertTimed(s, 'postgres', 'keys.listKeys');
      assertTimed(s, 'redis', 'sessions.createSession', 2);
      assertTimed(s, 'redis', 'refreshTokens.createRefreshToken');
      assert.equal(s.get('gatehouse_store_operation_duration_seconds_count{store="postgres",operation="sessions.createSession"}'), undefined, 'sessions are not in Postgres');
      assert.deepEqual(activeSessions(s), { session: 1, token: 1 });
    } finally {
      await dropSchema(pgUrl, schema);
      const r = new Redis(redisUrl);
      await deletePrefix(r as never, prefix);
      r.disconnect();
    }
  });

  test('MariaDB/MySQL', async (t) => {
    const url = await needs(t, 'MariaDB', MYSQL_URL, requireMysql);
    if (!url) return;
    const db = await createTestDatabase(url);
    try {
      const s = await exercise({ databaseUrl: db.url });
      assertTimed(s, 'mysql', 'users.createUser');
      assertTimed(s, 'mysql', 'sessions.createSession', 2);
      assert.deepEqual(activeSessions(s), { session: 1, token: 1 });
    } finally {
      await dropDatabase(url, db.database);
    }
  });
});
