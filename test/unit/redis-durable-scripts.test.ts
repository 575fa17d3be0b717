/**
 * The two scripts of the confirmed revocations (src/stores/redis/durable-scripts.ts), on a real Redis: the
 * deletion of a user's sessions records what it deleted, and the repair of one whose reply was lost
 * deletes only the sessions that existed then and reads back what the lost attempt deleted.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect, type RedisClient } from '../../src/stores/redis/client.js';
import { defineScripts } from '../../src/stores/redis/commands.js';
import { defineDurableScripts } from '../../src/stores/redis/durable-scripts.js';
import { keys } from '../../src/stores/redis/keys.js';
import { createRedisSessionStore } from '../../src/stores/redis/sessions.js';
import { makeSession } from '../contract/fixtures.js';
import { deletePrefix, REDIS_URL, requireRedis, skipReason, testPrefix } from '../support/services.js';

const url = await requireRedis();

type Scripted = RedisClient & Record<string, (...a: (string | number)[]) => Promise<string[]>>;

describe('confirmed revocation scripts', { skip: url === null ? skipReason('Redis', REDIS_URL) : false }, () => {
  let r: Scripted;
  const prefix = testPrefix();
  const k = keys(prefix);
  const tomb = (uid: string) => `${prefix}x:{${uid}}`;
  before(() => {
    r = connect({ url: url! }) as Scripted;
    defineDurableScripts(r);
  });
  after(async () => {
    await deletePrefix(r as never, prefix);
    r.disconnect();
  });

  it('deleting a user\'s sessions records each deleted one, with the time given, and keeps the one excepted', async () => {
    const store = createRedisSessionStore(r, k, defineScripts(r));
    const keep = makeSession();
    const gone = [makeSession({ userId: keep.userId }), makeSession({ userId: keep.userId })];
    for (const s of [keep, ...gone]) await store.createSession(s, { maxPerUser: 10 });
    const uid = keep.userId;
    const fields = await r.deleteUserSessionsRecorded!(k.user(uid), tomb(uid), keep.id.slice(0, 22), k.dataPrefix(uid), 1234, 60_000);
    assert.deepEqual([...fields].sort(), gone.map((s) => s.id.slice(0, 22)).sort());
    assert.deepEqual((await store.listSessionsByUser(uid, Date.now())).map((s) => s.id), [keep.id]);
    const recorded = await r.hgetall(tomb(uid));
    assert.deepEqual(Object.keys(recorded).sort(), [...fields].sort());
    assert.ok(Object.values(recorded).every((t) => t === '1234'));
    const ttl = await r.pttl(tomb(uid));
    assert.ok(ttl > 0 && ttl <= 60_000, `the record expires (${ttl} ms)`);
  });

  it('the repair of a lost reply whose deletion survived: nothing left to delete, and what it deleted is read back', async () => {
    const store = createRedisSessionStore(r, k, defineScripts(r));
    const t0 = Date.now();
    const a = makeSession({ createdAt: t0 - 60_000 });
    const uid = a.userId;
    const b = makeSession({ userId: uid, createdAt: t0 - 30_000 });
    for (const s of [a, b]) await store.createSession(s, { maxPerUser: 10 });
    await r.deleteUserSessionsRecorded!(k.user(uid), tomb(uid), '', k.dataPrefix(uid), t0, 60_000);
    // A session the user starts afterwards (a new sign-in) is no part of the lost request.
    const later = makeSession({ userId: uid, createdAt: t0 + 1000 });
    await store.createSession(later, { maxPerUser: 10 });
    const out = await r.repairUserSessions!(k.user(uid), tomb(uid), '', t0, k.dataPrefix(uid), t0 + 2000, 60_000);
    assert.deepEqual([...new Set(out)].sort(), [a.id, b.id].map((id) => id.slice(0, 22)).sort());
    assert.deepEqual((await store.listSessionsByUser(uid, Date.now())).map((s) => s.id), [later.id]);
  });

  it('the repair of a lost reply whose deletion was lost too: the sessions that existed then are deleted now, one created since is left', async () => {
    const store = createRedisSessionStore(r, k, defineScripts(r));
    const t0 = Date.now();
    const a = makeSession({ createdAt: t0 - 60_000 });
    const uid = a.userId;
    const keep = makeSession({ userId: uid, createdAt: t0 - 50_000 });
    const later = makeSession({ userId: uid, createdAt: t0 + 1000 });
    for (const s of [a, keep, later]) await store.createSession(s, { maxPerUser: 10 });
    const out = await r.repairUserSessions!(k.user(uid), tomb(uid), keep.id.slice(0, 22), t0, k.dataPrefix(uid), t0 + 2000, 60_000);
    assert.deepEqual(out, [a.id.slice(0, 22)]);
    assert.deepEqual((await store.listSessionsByUser(uid, Date.now())).map((s) => s.id).sort(), [keep.id, later.id].sort(), 'the excepted session and the newer one stay');
    assert.equal(await r.hget(tomb(uid), a.id.slice(0, 22)), String(t0 + 2000), 'the repair records what it deleted');
  });
});
