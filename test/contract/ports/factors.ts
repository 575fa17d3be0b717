/** Contracts of the second-factor ports: TOTP authenticators, recovery codes, passkeys and pending challenges. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { it } from 'node:test';
import type { ChallengeRecord, ChallengeStore, PasskeyRecord, PasskeyStore, RecoveryCodeStore, TotpRecord, TotpStore } from '../../../src/ports.js';
import { hash32, plain, rid } from '../fixtures.js';

const T0 = Date.now();

function makeTotp(over: Partial<TotpRecord> = {}): TotpRecord {
  return { userId: rid('u_'), secret: '{"v":1,"ct":"sealed"}', encrypted: true, createdAt: T0, confirmedAt: null, lastStep: null, ...over };
}

function makePasskey(over: Partial<PasskeyRecord> = {}): PasskeyRecord {
  return {
    id: randomBytes(20).toString('base64url'),
    userId: rid('u_'),
    userHandle: randomBytes(16).toString('base64url'),
    publicKey: new Uint8Array(randomBytes(77)),
    counter: 0,
    transports: ['internal', 'hybrid'],
    deviceType: 'singleDevice',
    backedUp: false,
    name: 'Laptop',
    createdAt: T0,
    lastUsedAt: null,
    ...over,
  };
}

function makeChallenge(over: Partial<ChallengeRecord> = {}): ChallengeRecord {
  return {
    id: rid(),
    purpose: 'mfa',
    secretHash: hash32(),
    userId: rid('u_'),
    binding: '{"mode":"session","cv":0}',
    createdAt: T0,
    expiresAt: T0 + 300_000,
    failures: 0,
    usedAt: null,
    ...over,
  };
}

export function totpContract(get: () => TotpStore): void {
  it('a pending authenticator reads back exactly and can be replaced while pending', async () => {
    const a = makeTotp();
    assert.equal(await get().putPendingTotp(a), true);
    assert.deepEqual(await get().getTotp(a.userId), a);
    const b = { ...a, secret: 'OTHER', createdAt: T0 + 5 };
    assert.equal(await get().putPendingTotp(b), true);
    assert.deepEqual(await get().getTotp(a.userId), b);
    assert.equal(await get().getTotp(rid('u_')), null);
  });

  it('confirming records the step; a confirmed authenticator is never replaced by a pending one', async () => {
    const a = makeTotp();
    await get().putPendingTotp(a);
    assert.equal(await get().confirmTotp(a.userId, T0 + 10, 1000), true);
    assert.equal(await get().confirmTotp(a.userId, T0 + 11, 1001), false);
    assert.equal(await get().putPendingTotp({ ...a, secret: 'EVIL' }), false);
    const got = await get().getTotp(a.userId);
    assert.equal(got?.secret, a.secret);
    assert.equal(got?.confirmedAt, T0 + 10);
    assert.equal(got?.lastStep, 1000);
  });

  it('a step is accepted once, never again, and never an older one', async () => {
    const a = makeTotp();
    await get().putPendingTotp(a);
    assert.equal(await get().useTotpStep(a.userId, 5), false, 'a pending authenticator accepts nothing');
    await get().confirmTotp(a.userId, T0, 1000);
    assert.equal(await get().useTotpStep(a.userId, 1000), false, 'the confirming step is spent');
    assert.equal(await get().useTotpStep(a.userId, 1001), true);
    assert.equal(await get().useTotpStep(a.userId, 1001), false);
    assert.equal(await get().useTotpStep(a.userId, 999), false);
    assert.equal(await get().useTotpStep(a.userId, 1002), true);
  });

  it('exactly one of 20 concurrent uses of one step is accepted', async () => {
    const a = makeTotp();
    await get().putPendingTotp(a);
    await get().confirmTotp(a.userId, T0, 10);
    const results = await Promise.all(Array.from({ length: 20 }, () => get().useTotpStep(a.userId, 11)));
    assert.equal(results.filter(Boolean).length, 1);
  });

  it('deleteTotp removes it', async () => {
    const a = makeTotp();
    await get().putPendingTotp(a);
    await get().confirmTotp(a.userId, T0, 1);
    assert.equal(await get().deleteTotp(a.userId), true);
    assert.equal(await get().getTotp(a.userId), null);
    assert.equal(await get().deleteTotp(a.userId), false);
    assert.equal(await get().putPendingTotp(a), true, 'a new one may be enrolled after removal');
  });
}

export function recoveryCodesContract(get: () => RecoveryCodeStore): void {
  it('a code is spent once; replacing voids the old set', async () => {
    const user = rid('u_');
    const codes = Array.from({ length: 10 }, hash32);
    await get().replaceRecoveryCodes(user, codes, T0);
    assert.equal(await get().countRecoveryCodes(user), 10);
    assert.equal(await get().useRecoveryCode(user, codes[3]!, T0 + 1), true);
    assert.equal(await get().useRecoveryCode(user, codes[3]!, T0 + 2), false);
    assert.equal(await get().useRecoveryCode(user, hash32(), T0 + 2), false);
    assert.equal(await get().countRecoveryCodes(user), 9);
    const next = Array.from({ length: 10 }, hash32);
    await get().replaceRecoveryCodes(user, next, T0 + 3);
    assert.equal(await get().useRecoveryCode(user, codes[4]!, T0 + 4), false, 'an old code is void');
    assert.equal(await get().useRecoveryCode(user, next[0]!, T0 + 4), true);
  });

  it('another user’s code is not this user’s', async () => {
    const a = rid('u_');
    const b = rid('u_');
    const code = hash32();
    await get().replaceRecoveryCodes(a, [code], T0);
    await get().replaceRecoveryCodes(b, [hash32()], T0);
    assert.equal(await get().useRecoveryCode(b, code, T0), false);
    assert.equal(await get().useRecoveryCode(a, code, T0), true);
  });

  it('exactly one of 20 concurrent uses of one code is accepted', async () => {
    const user = rid('u_');
    const code = hash32();
    await get().replaceRecoveryCodes(user, [code, hash32()], T0);
    const results = await Promise.all(Array.from({ length: 20 }, () => get().useRecoveryCode(user, code, T0 + 1)));
    assert.equal(results.filter(Boolean).length, 1);
    assert.equal(await get().countRecoveryCodes(user), 1);
  });

  it('deleteRecoveryCodes removes and counts them', async () => {
    const user = rid('u_');
    await get().replaceRecoveryCodes(user, [hash32(), hash32()], T0);
    assert.equal(await get().deleteRecoveryCodes(user), 2);
    assert.equal(await get().countRecoveryCodes(user), 0);
  });
}

export function passkeysContract(get: () => PasskeyStore): void {
  it('a passkey reads back exactly; a second one with the same credential id is refused, whoever registers it', async () => {
    const p = makePasskey();
    assert.equal(await get().createPasskey(p), true);
    assert.deepEqual(plain(await get().getPasskey(p.id)), p);
    assert.equal(await get().createPasskey({ ...makePasskey(), id: p.id }), false);
    assert.equal((await get().getPasskey(p.id))?.userId, p.userId);
    assert.equal(await get().getPasskey(rid()), null);
  });

  it('lists a user’s passkeys oldest first, and only theirs', async () => {
    const user = rid('u_');
    const b = makePasskey({ userId: user, createdAt: T0 + 2, name: 'b' });
    const a = makePasskey({ userId: user, createdAt: T0 + 1, name: 'a' });
    await get().createPasskey(b);
    await get().createPasskey(a);
    await get().createPasskey(makePasskey());
    assert.deepEqual((await get().listPasskeys(user)).map((p) => p.name), ['a', 'b']);
  });

  it('recordPasskeyUse moves the counter only from the expected value; of 20 concurrent uses one wins', async () => {
    const p = makePasskey({ counter: 5 });
    await get().createPasskey(p);
    assert.equal(await get().recordPasskeyUse(p.id, 4, 9, T0 + 1), false);
    assert.equal(await get().recordPasskeyUse(p.id, 5, 6, T0 + 1), true);
    const got = await get().getPasskey(p.id);
    assert.equal(got?.counter, 6);
    assert.equal(got?.lastUsedAt, T0 + 1);
    const results = await Promise.all(Array.from({ length: 20 }, () => get().recordPasskeyUse(p.id, 6, 7, T0 + 2)));
    assert.equal(results.filter(Boolean).length, 1);
  });

  it('rename and delete act only on the owner’s passkey', async () => {
    const p = makePasskey();
    await get().createPasskey(p);
    const other = rid('u_');
    assert.equal(await get().renamePasskey(other, p.id, 'stolen'), false);
    assert.equal(await get().deletePasskey(other, p.id), false);
    assert.equal(await get().renamePasskey(p.userId, p.id, 'Phone'), true);
    assert.equal((await get().getPasskey(p.id))?.name, 'Phone');
    assert.equal(await get().deletePasskey(p.userId, p.id), true);
    assert.equal(await get().getPasskey(p.id), null);
  });

  it('deletePasskeysByUser removes them all and counts them', async () => {
    const user = rid('u_');
    await get().createPasskey(makePasskey({ userId: user }));
    await get().createPasskey(makePasskey({ userId: user }));
    const keep = makePasskey();
    await get().createPasskey(keep);
    assert.equal(await get().deletePasskeysByUser(user), 2);
    assert.deepEqual(await get().listPasskeys(user), []);
    assert.ok(await get().getPasskey(keep.id));
  });
}

export function challengesContract(get: () => ChallengeStore): void {
  it('a challenge reads back exactly, with or without a user', async () => {
    const a = makeChallenge();
    const b = makeChallenge({ userId: null, purpose: 'webauthn.login', binding: '' });
    await get().createChallenge(a);
    await get().createChallenge(b);
    assert.deepEqual(plain(await get().getChallenge(a.id)), a);
    assert.deepEqual(plain(await get().getChallenge(b.id)), b);
    assert.equal(await get().getChallenge(rid()), null);
  });

  it('is consumed once, never after expiry; exactly one of 20 concurrent consumers wins', async () => {
    const a = makeChallenge();
    await get().createChallenge(a);
    const results = await Promise.all(Array.from({ length: 20 }, () => get().consumeChallenge(a.id, T0 + 1)));
    assert.equal(results.filter(Boolean).length, 1);
    assert.equal((await get().getChallenge(a.id))?.usedAt, T0 + 1);
    const b = makeChallenge();
    await get().createChallenge(b);
    assert.equal(await get().consumeChallenge(b.id, b.expiresAt), false);
    assert.equal((await get().getChallenge(b.id))?.usedAt, null);
  });

  it('wrong answers are counted; the one that reaches the limit spends it, even under concurrency', async () => {
    const a = makeChallenge();
    await get().createChallenge(a);
    for (let i = 1; i <= 4; i++) assert.equal(await get().failChallenge(a.id, 5, T0 + i), i);
    assert.equal(await get().failChallenge(a.id, 5, T0 + 5), 5);
    assert.equal((await get().getChallenge(a.id))?.usedAt, T0 + 5);
    assert.equal(await get().failChallenge(a.id, 5, T0 + 6), null);
    assert.equal(await get().consumeChallenge(a.id, T0 + 6), false);

    const b = makeChallenge();
    await get().createChallenge(b);
    const counts = await Promise.all(Array.from({ length: 12 }, () => get().failChallenge(b.id, 5, T0 + 1)));
    assert.deepEqual(counts.filter((n) => n !== null).sort(), [1, 2, 3, 4, 5]);
    assert.equal(await get().consumeChallenge(b.id, T0 + 2), false);
  });

  it('deleteChallengesByUser and deleteExpiredChallenges remove what they name', async () => {
    const user = rid('u_');
    const a = makeChallenge({ userId: user });
    const old = makeChallenge({ expiresAt: T0 + 10 });
    const live = makeChallenge({ userId: null, expiresAt: T0 + 100_000 });
    for (const c of [a, old, live]) await get().createChallenge(c);
    assert.equal(await get().deleteChallengesByUser(user), 1);
    assert.equal(await get().getChallenge(a.id), null);
    assert.equal(await get().deleteExpiredChallenges(T0 + 50), 1);
    assert.equal(await get().getChallenge(old.id), null);
    assert.ok(await get().getChallenge(live.id));
  });
}
