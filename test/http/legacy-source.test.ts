/**
 * The connect-redis source on a real Redis: the claim has one winner, only the winner completes or
 * releases, a release puts the old session back as it was, and the report skips markers.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { ConnectRedisSource } from '../../src/stores/legacy/index.js';
import { deletePrefix, requireRedis, skipReason, REDIS_URL, testPrefix } from '../support/services.js';

const redisUrl = await requireRedis();

describe('connect-redis legacy source', { skip: redisUrl ? false : skipReason('Redis', REDIS_URL) }, () => {
  const base = testPrefix();
  const prefix = `${base}sess:`;
  let redis: Redis;
  let source: ConnectRedisSource;
  before(() => {
    redis = new Redis(redisUrl!);
    source = new ConnectRedisSource(new Redis(redisUrl!), { prefix });
  });
  after(async () => {
    await deletePrefix(redis as never, base);
    await source.close();
    await redis.quit();
  });

  const put = async (sid: string, data: object, ttlMs = 3_600_000) => {
    const raw = JSON.stringify({ cookie: { originalMaxAge: ttlMs, expires: new Date(Date.now() + ttlMs).toISOString() }, ...data });
    await redis.set(prefix + sid, raw, 'PX', ttlMs);
    return raw;
  };

  test('reads an old session with its data, expiry and a version', async () => {
    const raw = await put('a', { userId: 'u1' }, 60_000);
    const e = await source.read('a', Date.now());
    assert.equal(e?.kind, 'session');
    if (e?.kind !== 'session') return;
    assert.equal(e.data.userId, 'u1');
    assert.equal(e.version, createHash('sha1').update(raw).digest('hex'));
    assert.ok(e.expiresAt! > Date.now() && e.expiresAt! <= Date.now() + 60_000);
    assert.equal(await source.read('nothing-here', Date.now()), null);
  });

  test('of concurrent claims exactly one wins, and a stale version never does', async () => {
    await put('b', { userId: 'u2' });
    const e = await source.read('b', Date.now());
    if (e?.kind !== 'session') return assert.fail('expected a session');
    assert.equal(await source.claim('b', 'not-the-version', 'c0', 10_000, Date.now()), false);
    const wins = await Promise.all(Array.from({ length: 8 }, (_, i) => source.claim('b', e.version, `c${i + 1}`, 10_000, Date.now())));
    assert.equal(wins.filter(Boolean).length, 1);
    const m = await source.read('b', Date.now());
    assert.equal(m?.kind, 'migrated');
    assert.ok((await redis.pttl(prefix + 'b')) <= 10_000);
  });

  test('only the claimant completes, and a release puts the old session back with its TTL', async () => {
    const raw = await put('c', { userId: 'u3' }, 600_000);
    const e = await source.read('c', Date.now());
    if (e?.kind !== 'session') return assert.fail('expected a session');
    assert.equal(await source.claim('c', e.version, 'mine', 10_000, Date.now()), true);
    await source.complete('c', 'someone-else', { sessionId: 's', userId: 'u3', at: 1, seal: 'x' }, 10_000);
    const pending = await source.read('c', Date.now());
    assert.equal(pending?.kind === 'migrated' && pending.claimId === 'mine' && pending.sessionId === null, true, 'a stranger cannot complete it');
    await source.release('c', 'someone-else');
    assert.equal((await source.read('c', Date.now()))?.kind, 'migrated', 'a stranger cannot release it');
    await source.release('c', 'mine');
    assert.equal(await redis.get(prefix + 'c'), raw);
    const ttl = await redis.pttl(prefix + 'c');
    assert.ok(ttl > 500_000 && ttl <= 600_000, `TTL restored (${ttl})`);
    assert.equal(await source.claim('c', e.version, 'again', 10_000, Date.now()), true);
    await source.complete('c', 'again', { sessionId: 'gh-session', userId: 'u3', at: 42, seal: 'the-seal' }, 10_000);
    assert.deepEqual(await source.read('c', Date.now()), { kind: 'migrated', claimId: 'again', sessionId: 'gh-session', userId: 'u3', at: 42, seal: 'the-seal' });
  });

  test('the report counts old sessions and leaves markers out', async () => {
    const before = await source.remaining();
    await put('d1', { userId: 'x' });
    await put('d2', { userId: 'y' });
    assert.equal(await source.remaining(), before + 2);
    const e = await source.read('d1', Date.now());
    if (e?.kind !== 'session') return assert.fail('expected a session');
    await source.claim('d1', e.version, 'z', 10_000, Date.now());
    assert.equal(await source.remaining(), before + 1);
  });
});
