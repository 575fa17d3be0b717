/** Contract of the linked-identities port: identities linked once, unlink rules, federated sessions. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { FederatedSessionRecord, IdentityRecord, IdentityStore } from '../../../src/ports.js';
import { ownedBy, plain, rid } from '../fixtures.js';

const T0 = Date.now();

function makeIdentity(over: Partial<IdentityRecord> = {}): IdentityRecord {
  return { id: rid('i_'), userId: rid('u_'), provider: 'corp', subject: rid('sub-'), email: 'someone@example.test', emailVerified: true, createdAt: T0, lastUsedAt: null, ...over };
}

function makeFed(over: Partial<FederatedSessionRecord> = {}): FederatedSessionRecord {
  const userId = over.userId ?? rid('u_');
  return { sessionId: ownedBy(userId), userId, provider: 'corp', subject: rid('sub-'), sid: rid('sid-'), createdAt: T0, expiresAt: T0 + 3_600_000, ...over };
}

export function identitiesContract(get: () => IdentityStore): void {
  it('an identity reads back exactly by provider and subject, and a second link of the same one is refused, whoever asks', async () => {
    const a = makeIdentity();
    assert.equal(await get().createIdentity(a), 'ok');
    assert.deepEqual(plain(await get().getIdentity('corp', a.subject)), a);
    assert.equal(await get().createIdentity(makeIdentity({ subject: a.subject })), 'taken');
    assert.equal((await get().getIdentity('corp', a.subject))?.userId, a.userId);
    assert.equal(await get().getIdentity('other', a.subject), null);
    assert.equal(await get().getIdentity('corp', rid()), null);
  });

  it('a user has at most one identity per provider; the same subject at another provider is another identity', async () => {
    const a = makeIdentity();
    await get().createIdentity(a);
    assert.equal(await get().createIdentity(makeIdentity({ userId: a.userId })), 'taken');
    assert.equal(await get().createIdentity(makeIdentity({ userId: a.userId, provider: 'google', subject: a.subject, createdAt: T0 + 1 })), 'ok');
    assert.deepEqual((await get().listIdentities(a.userId)).map((i) => i.provider), ['corp', 'google']);
  });

  it('of 10 concurrent links of one identity to different users exactly one succeeds', async () => {
    const subject = rid('sub-');
    const results = await Promise.all(Array.from({ length: 10 }, () => get().createIdentity(makeIdentity({ subject }))));
    assert.equal(results.filter((r) => r === 'ok').length, 1);
    const linked = await get().getIdentity('corp', subject);
    assert.ok(linked);
  });

  it('lists a user’s identities oldest first, and only theirs; a use records the time and the email given', async () => {
    const user = rid('u_');
    const b = makeIdentity({ userId: user, provider: 'b', createdAt: T0 + 2 });
    const a = makeIdentity({ userId: user, provider: 'a', createdAt: T0 + 1 });
    await get().createIdentity(b);
    await get().createIdentity(a);
    await get().createIdentity(makeIdentity());
    assert.deepEqual((await get().listIdentities(user)).map((i) => i.provider), ['a', 'b']);
    assert.equal(await get().recordIdentityUse(a.id, T0 + 5, 'new@example.test', false), true);
    const got = await get().getIdentity('a', a.subject);
    assert.equal(got?.lastUsedAt, T0 + 5);
    assert.equal(got?.email, 'new@example.test');
    assert.equal(got?.emailVerified, false);
    assert.equal(await get().recordIdentityUse(rid(), T0, null, false), false);
  });

  it('unlink acts only on the owner’s identity, and with unlessLast refuses the last one', async () => {
    const a = makeIdentity();
    await get().createIdentity(a);
    assert.equal(await get().deleteIdentity(rid('u_'), a.id, false), 'missing');
    assert.equal(await get().deleteIdentity(a.userId, a.id, true), 'last');
    assert.ok(await get().getIdentity('corp', a.subject));
    const b = makeIdentity({ userId: a.userId, provider: 'other' });
    await get().createIdentity(b);
    assert.equal(await get().deleteIdentity(a.userId, a.id, true), 'ok');
    assert.equal(await get().getIdentity('corp', a.subject), null);
    assert.equal(await get().deleteIdentity(a.userId, b.id, false), 'ok');
    assert.deepEqual(await get().listIdentities(a.userId), []);
    assert.equal(await get().deleteIdentity(a.userId, b.id, false), 'missing');
  });

  it('two concurrent unlinks of a user’s last two identities, each unless last, leave exactly one', async () => {
    for (let round = 0; round < 5; round++) {
      const a = makeIdentity();
      const b = makeIdentity({ userId: a.userId, provider: 'other' });
      await get().createIdentity(a);
      await get().createIdentity(b);
      const out = await Promise.all([get().deleteIdentity(a.userId, a.id, true), get().deleteIdentity(a.userId, b.id, true)]);
      assert.deepEqual([...out].sort(), ['last', 'ok']);
      assert.equal((await get().listIdentities(a.userId)).length, 1);
    }
  });

  it('deleteIdentitiesByUser removes the user’s identities and federated sessions only', async () => {
    const a = makeIdentity();
    const other = makeIdentity();
    await get().createIdentity(a);
    await get().createIdentity(other);
    await get().putFederatedSession(makeFed({ userId: a.userId }));
    assert.equal(await get().deleteIdentitiesByUser(a.userId), 1);
    assert.deepEqual(await get().listIdentities(a.userId), []);
    assert.deepEqual(await get().listFederatedSessions(a.userId), []);
    assert.ok(await get().getIdentity('corp', other.subject));
  });

  it('federated sessions are found by the provider’s session id or by subject, at that provider only', async () => {
    const user = rid('u_');
    const subject = rid('sub-');
    const one = makeFed({ userId: user, subject, sid: 'sid-1' });
    const two = makeFed({ userId: user, subject, sid: 'sid-2' });
    const noSid = makeFed({ userId: user, subject, sid: null });
    const elsewhere = makeFed({ userId: user, provider: 'google', subject, sid: 'sid-1' });
    for (const f of [one, two, noSid, elsewhere]) await get().putFederatedSession(f);
    assert.deepEqual(plain(await get().findFederatedSessions('corp', { sid: 'sid-1' })), [one]);
    const bySubject = (await get().findFederatedSessions('corp', { subject })).map((f) => f.sessionId).sort();
    assert.deepEqual(bySubject, [one, two, noSid].map((f) => f.sessionId).sort());
    assert.equal((await get().listFederatedSessions(user)).length, 4);
    assert.deepEqual(await get().findFederatedSessions('corp', { sid: 'nope' }), []);
  });

  it('expired federated sessions are swept; live ones stay', async () => {
    const user = rid('u_');
    const old = makeFed({ userId: user, expiresAt: T0 + 10 });
    const live = makeFed({ userId: user, expiresAt: T0 + 10_000 });
    await get().putFederatedSession(old);
    await get().putFederatedSession(live);
    assert.ok((await get().deleteExpiredFederatedSessions(T0 + 100)) >= 1);
    assert.deepEqual((await get().listFederatedSessions(user)).map((f) => f.sessionId), [live.sessionId]);
  });
}
