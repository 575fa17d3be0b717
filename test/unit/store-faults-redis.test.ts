/**
 * Redis outages: a store whose Redis goes away fails fast with StoreUnavailableError and serves
 * again once Redis is back, with the same store object; the feed reports the drop and the return,
 * and replay covers the gap. Uses a redis-server of its own, killed and restarted by pid.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ChangeEvent } from '../../src/ports.js';
import { openRedisStores, type RedisStores } from '../../src/stores/redis/index.js';
import { makeSession, rid } from '../contract/fixtures.js';
import { startRedisServer, type RedisServer } from '../support/redis-cluster.js';
import { REDIS_URL, requireRedis, skipReason, testPrefix } from '../support/services.js';
import { eventually, rejectsUnavailable, watch } from './store-faults.support.js';

// The shared Redis only tells us Redis is installed and expected here; the tests start their own.
const redisUrl = await requireRedis();

describe('redis faults', { skip: redisUrl === null ? skipReason('Redis', REDIS_URL) : false }, () => {
  let server: RedisServer;
  before(async () => {
    server = await startRedisServer();
  });
  after(async () => {
    await server?.stop();
  });

  it('a killed Redis fails operations fast with StoreUnavailableError, and the same store serves after restart', async () => {
    const stores: RedisStores = await openRedisStores({ url: server.url, prefix: testPrefix(), commandTimeoutMs: 1000 });
    try {
      const s = makeSession();
      await stores.sessions.createSession(s, { maxPerUser: 5 });
      assert.ok(await stores.sessions.getSession(s.id, Date.now()));
      await server.kill();
      const ms = await rejectsUnavailable(stores.sessions.getSession(s.id, Date.now()));
      assert.ok(ms < 3000, `rejected after ${ms} ms`);
      // While it stays down every call keeps failing fast rather than queueing forever.
      const ms2 = await rejectsUnavailable(stores.sessions.createSession(makeSession(), { maxPerUser: 5 }));
      assert.ok(ms2 < 3000, `rejected after ${ms2} ms`);
      await rejectsUnavailable(stores.ping());
      await server.restart();
      // The restarted server is empty (no persistence); the store object reconnects by itself.
      await eventually('redis', () => stores.ping());
      const s2 = makeSession();
      await stores.sessions.createSession(s2, { maxPerUser: 5 });
      assert.equal((await stores.sessions.getSession(s2.id, Date.now()))?.id, s2.id);
    } finally {
      await stores.close();
    }
  });

  it('the subscriber connection dropping reports status(false), then status(true), and replay covers the gap', async () => {
    const prefix = testPrefix();
    const a = await openRedisStores({ url: server.url, prefix, commandTimeoutMs: 2000 });
    const b = await openRedisStores({ url: server.url, prefix, commandTimeoutMs: 2000 });
    try {
      await eventually('feed', async () => assert.equal(a.feed.connected, true), 3000);
      const w = watch(a.feed);
      const since = Date.now();
      const missed: ChangeEvent = { type: 'sessions.revoked', ids: [rid()], at: since };
      const published = new Promise<void>((resolve, reject) => w.onDownOnce(() => b.feed.publish(missed).then(resolve, reject)));
      // Drop only the subscriber connections: Redis stays up, so the other instance can publish.
      await a.redis.client('KILL', 'TYPE', 'pubsub');
      assert.equal(await w.nth(1), false);
      await published;
      assert.equal(await w.nth(2), true);
      assert.deepEqual(w.statuses, [false, true]);
      assert.equal(a.feed.connected, true);
      const replayed = await a.feed.replay(since);
      assert.ok(replayed.some((e) => JSON.stringify(e) === JSON.stringify(missed)), 'replay returns the missed revocation');
      const live: ChangeEvent = { type: 'keys.changed', at: Date.now() };
      await b.feed.publish(live);
      await eventually('live delivery', async () => assert.ok(w.events.some((e) => e.at === live.at)), 3000);
      w.stop();
    } finally {
      await a.close();
      await b.close();
    }
  });
});
