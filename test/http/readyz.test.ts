/**
 * `/readyz` reports each dependency and answers 503 (problem `not_ready`, with the checks) while a
 * required one is down; `/healthz` stays the cheap liveness check.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { resolveConfig } from '../../src/config.js';
import { createServerApp } from '../../src/server/app.js';
import { createLogger } from '../../src/server/logger.js';
import { createMemoryStores } from '../../src/stores/memory/index.js';
import { switchableFeed } from '../support/feeds.js';
import { CHEAP_HASHING, Client, startTestServer } from '../support/server.js';
import { requireRedis, skipReason, REDIS_URL } from '../support/services.js';

const ready = (t: { url: string }) => new Client(t.url).req('GET', '/readyz');

describe('/readyz', () => {
  test('ready: 200 with every check ok (no Redis check without Redis)', async () => {
    const t = await startTestServer();
    try {
      const r = await ready(t);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.headers.get('cache-control'), 'no-store');
      assert.deepEqual(r.body, {
        status: 'ready',
        checks: { database: { ok: true, required: true }, revocation_feed: { ok: true, required: true }, signing_key: { ok: true, required: true } },
      });
    } finally {
      await t.close();
    }
  });

  test('a database that fails its ping: 503 not_ready naming the database, with no error message', async () => {
    const stores = createMemoryStores();
    let failing = false;
    stores.ping = async () => {
      if (failing) throw new Error('connect ECONNREFUSED 10.0.0.7:5432 password=hunter2');
    };
    const t = await startTestServer({ stores });
    try {
      assert.equal((await ready(t)).status, 200);
      failing = true;
      const r = await ready(t);
      assert.equal(r.status, 503, r.text);
      assert.match(r.headers.get('content-type') ?? '', /^application\/problem\+json/);
      assert.equal(r.body.code, 'not_ready');
      assert.deepEqual(r.body.checks.database, { ok: false, required: true, reason: 'unavailable' });
      assert.equal(r.body.checks.signing_key.ok, true);
      assert.doesNotMatch(r.text, /ECONNREFUSED|hunter2|10\.0\.0\.7/);
      failing = false;
      assert.equal((await ready(t)).status, 200, 'ready again once it answers');
    } finally {
      await t.close();
    }
  });

  test('a database that does not answer within the store timeout: 503 with reason timeout, answered in bounded time', async () => {
    const stores = createMemoryStores();
    let hang = false;
    stores.ping = () => (hang ? new Promise<void>(() => {}) : Promise.resolve());
    const t = await startTestServer({ stores, config: { storeTimeout: '200ms' } });
    try {
      hang = true;
      const started = Date.now();
      const r = await ready(t);
      assert.equal(r.status, 503);
      assert.equal(r.body.checks.database.reason, 'timeout');
      assert.ok(Date.now() - started < 5000, 'answered within the budget');
    } finally {
      hang = false;
      await t.close();
    }
  });

  test('a revocation feed that is down: 503 with revocation_feed not_trusted, 200 once it is back and replayed', async () => {
    const feed = switchableFeed();
    const t = await startTestServer({ stores: createMemoryStores({ feed }) });
    try {
      feed.down();
      const r = await ready(t);
      assert.equal(r.status, 503);
      assert.deepEqual(r.body.checks.revocation_feed, { ok: false, required: true, reason: 'not_trusted' });
      // Liveness does not depend on the feed.
      assert.equal((await new Client(t.url).req('GET', '/healthz')).status, 200);
      feed.up();
      const deadline = Date.now() + 5000;
      while ((await ready(t)).status !== 200) {
        assert.ok(Date.now() < deadline, 'ready again after the replay');
        await new Promise((res) => setTimeout(res, 20));
      }
    } finally {
      await t.close();
    }
  });

  test('with Redis: a redis check beside the database (stores opened from their URLs)', async (ctx) => {
    const redisUrl = await requireRedis();
    if (!redisUrl) return ctx.skip(skipReason('Redis', REDIS_URL));
    const dir = mkdtempSync(join(tmpdir(), 'gh-readyz-'));
    const config = resolveConfig({ databaseUrl: `sqlite:${join(dir, 'gh.db')}`, redisUrl, redisPrefix: `gh-readyz-${process.pid}:`, passwordHashing: CHEAP_HASHING, rateLimits: { enabled: false }, logLevel: 'silent' });
    const srv = await createServerApp({ config, logger: createLogger('silent') });
    try {
      const port = await srv.listen(0, '127.0.0.1');
      const r = await ready({ url: `http://127.0.0.1:${port}` });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.body.checks.redis, { ok: true, required: true });
      assert.deepEqual(r.body.checks.database, { ok: true, required: true });
    } finally {
      await srv.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
