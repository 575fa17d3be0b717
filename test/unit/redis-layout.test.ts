/**
 * What the Redis store holds: one session hash and one refresh-token hash per user and nothing per
 * session, ids kept by their random part, no secret or token in clear — and an id is only ever
 * looked up in the hash of the user it names.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openRedisStores, type RedisStores } from '../../src/stores/redis/index.js';
import { makeRefreshToken, makeSession, ownedBy, rid } from '../contract/fixtures.js';
import { deletePrefix, REDIS_URL, requireRedis, skipReason, testPrefix } from '../support/services.js';

const url = await requireRedis();

describe('redis key layout', { skip: url === null ? skipReason('Redis', REDIS_URL) : false }, () => {
  let stores: RedisStores;
  let prefix: string;
  before(async () => {
    prefix = testPrefix();
    stores = await openRedisStores({ url: url!, prefix, commandTimeoutMs: 2000 });
  });
  after(async () => {
    if (stores) {
      await deletePrefix(stores.redis as never, prefix);
      await stores.close();
    }
  });

  async function keysUnder(p: string): Promise<string[]> {
    const out: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = (await stores.redis.scan(cursor, 'MATCH', `${p}*`, 'COUNT', 500)) as [string, string[]];
      out.push(...batch);
      cursor = next;
    } while (cursor !== '0');
    return out.sort();
  }

  it('five sessions and their refresh tokens are two keys, one slot; fields are the ids\' random parts', async () => {
    const uid = rid('u_');
    const sessions = Array.from({ length: 5 }, (_, i) => makeSession({ userId: uid, mode: i < 2 ? 'token' : 'session' }));
    for (const s of sessions) await stores.sessions.createSession(s, { maxPerUser: 10 });
    for (const s of sessions.slice(0, 2)) await stores.refreshTokens.createRefreshToken(makeRefreshToken({ userId: uid, sessionId: s.id }));
    assert.deepEqual(await keysUnder(prefix), [`${prefix}t:{${uid}}`, `${prefix}u:{${uid}}`]);
    const fields = (await stores.redis.hkeys(`${prefix}u:{${uid}}`)).sort();
    assert.deepEqual(fields, sessions.map((s) => s.id.slice(0, 22)).sort());
    // The stored values hold the secret's hash, never the id's owner or anything of another user.
    for (const v of await stores.redis.hvals(`${prefix}u:{${uid}}`)) assert.ok(!v.includes(uid));
    // Each id reads back whole.
    for (const s of sessions) assert.equal((await stores.sessions.getSession(s.id, Date.now()))?.id, s.id);
    const listed = await stores.sessions.listSessionsByUser(uid, Date.now());
    assert.deepEqual(listed.map((s) => s.id).sort(), sessions.map((s) => s.id).sort());
  });

  it('an id is looked up only under the user it names: another user\'s suffix finds nothing', async () => {
    const alice = rid('u_');
    const mallory = rid('u_');
    const s = makeSession({ userId: alice });
    await stores.sessions.createSession(s, { maxPerUser: 10 });
    const t = makeRefreshToken({ userId: alice, sessionId: s.id });
    await stores.refreshTokens.createRefreshToken(t);
    const forged = s.id.slice(0, 22) + mallory;
    assert.equal(await stores.sessions.getSession(forged, Date.now()), null);
    assert.equal(await stores.sessions.deleteSession(forged), null);
    assert.equal(await stores.refreshTokens.getRefreshToken(t.id.slice(0, 22) + mallory), null);
    assert.equal(await stores.refreshTokens.deleteRefreshTokensBySession(forged), 0);
    assert.ok(await stores.sessions.getSession(s.id, Date.now()));
    assert.ok(await stores.refreshTokens.getRefreshToken(t.id));
    // A bare 22-character id names nobody.
    assert.equal(await stores.sessions.getSession(s.id.slice(0, 22), Date.now()), null);
  });

  it('the scripts keep times exact in the offset encoding: touch, re-authentication, even before createdAt', async () => {
    const t = Date.now();
    const s = makeSession({ createdAt: t, idleExpiresAt: t + 60_000, expiresAt: t + 3_600_000 });
    await stores.sessions.createSession(s, { maxPerUser: 10 });
    assert.equal(await stores.sessions.touchSession(s.id, t + 1234, t + 61_234), true);
    assert.equal(await stores.sessions.setSessionAuth(s.id, { authAt: t - 5000, amr: ['pwd', 'otp', 'mfa'], acr: 'aal2', credentialVersion: 36 }), true);
    const back = await stores.sessions.getSession(s.id, t);
    assert.ok(back);
    assert.deepEqual([back.createdAt, back.lastSeenAt, back.idleExpiresAt, back.expiresAt, back.authAt], [t, t + 1234, t + 61_234, t + 3_600_000, t - 5000]);
    assert.deepEqual([back.amr, back.acr, back.credentialVersion], [['pwd', 'otp', 'mfa'], 'aal2', 36]);
    // Idle expiry is capped at the absolute expiry.
    await stores.sessions.touchSession(s.id, t + 2000, t + 9_000_000);
    assert.equal((await stores.sessions.getSession(s.id, t))?.idleExpiresAt, t + 3_600_000);
  });

  it('ids that do not name their record\'s user are refused as a programming error, not an outage', async () => {
    const uid = rid('u_');
    await assert.rejects(stores.sessions.createSession(makeSession({ userId: uid, id: ownedBy(rid('u_')) }), { maxPerUser: 10 }), TypeError);
    await assert.rejects(stores.refreshTokens.createRefreshToken(makeRefreshToken({ userId: uid, sessionId: ownedBy(rid('u_')) })), TypeError);
    assert.deepEqual(await keysUnder(`${prefix}u:{${uid}}`), []);
  });
});
