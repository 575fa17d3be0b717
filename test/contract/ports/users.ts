import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { UserStore } from '../../../src/ports.js';
import { makeUser, rid } from '../fixtures.js';

export function usersContract(get: () => UserStore): void {
  it('a created user reads back exactly, by id and by canonical email', async () => {
    const u = makeUser({ email: 'Ada@Example.test', emailCanonical: 'ada@example.test', emailVerifiedAt: null });
    assert.equal(await get().createUser(u), true);
    assert.deepEqual(await get().getUserById(u.id), u);
    assert.deepEqual(await get().getUserByEmail('ada@example.test'), u);
    assert.equal(await get().getUserByEmail('Ada@Example.test'), null, 'lookup is by the canonical form only');
    assert.equal(await get().getUserById(rid()), null);
  });

  it('createUser resolves false when the canonical email is taken, and keeps the first user', async () => {
    const a = makeUser({ emailCanonical: 'same@example.test' });
    const b = makeUser({ emailCanonical: 'same@example.test' });
    assert.equal(await get().createUser(a), true);
    assert.equal(await get().createUser(b), false);
    assert.equal(await get().getUserById(b.id), null);
    assert.equal((await get().getUserByEmail('same@example.test'))?.id, a.id);
  });

  it('the returned user is a copy: mutating it does not change the store', async () => {
    const u = makeUser();
    await get().createUser(u);
    const got = await get().getUserById(u.id);
    assert.ok(got);
    got.email = 'changed@example.test';
    u.passwordHash = 'changed';
    const again = await get().getUserById(u.id);
    assert.equal(again?.email, u.email);
    assert.notEqual(again?.passwordHash, 'changed');
  });

  it('listUsers pages by createdAt then id with an `after` cursor', async () => {
    const t = Date.now();
    const users = [
      makeUser({ id: 'u-c', createdAt: t }),
      makeUser({ id: 'u-a', createdAt: t + 1 }),
      makeUser({ id: 'u-b', createdAt: t + 1 }),
      makeUser({ id: 'u-0', createdAt: t + 2 }),
      makeUser({ id: 'u-z', createdAt: t + 3 }),
    ];
    for (const u of [...users].reverse()) assert.equal(await get().createUser(u), true);
    const page1 = await get().listUsers({ limit: 2 });
    assert.deepEqual(page1.map((u) => u.id), ['u-c', 'u-a']);
    const page2 = await get().listUsers({ limit: 2, after: 'u-a' });
    assert.deepEqual(page2.map((u) => u.id), ['u-b', 'u-0']);
    const page3 = await get().listUsers({ limit: 2, after: 'u-0' });
    assert.deepEqual(page3.map((u) => u.id), ['u-z']);
    assert.deepEqual(await get().listUsers({ limit: 2, after: 'u-z' }), []);
    assert.deepEqual(page1[0], users[0]);
  });

  it('setPasswordHash, setDisabled and markEmailVerified update one field and report a missing user', async () => {
    const u = makeUser();
    await get().createUser(u);
    assert.equal(await get().setPasswordHash(u.id, '$argon2id$new'), 1, 'resolves the new credential version');
    assert.equal(await get().setDisabled(u.id, 1234), true);
    assert.equal(await get().markEmailVerified(u.id, 5678), true);
    // A new password and disabling each move the credential version (0 → 2); verification does not.
    assert.deepEqual(await get().getUserById(u.id), { ...u, passwordHash: '$argon2id$new', disabledAt: 1234, emailVerifiedAt: 5678, credentialVersion: 2 });
    assert.equal(await get().setDisabled(u.id, null), true);
    assert.equal((await get().getUserById(u.id))?.disabledAt, null);
    const missing = rid();
    assert.equal(await get().setPasswordHash(missing, 'x'), null);
    assert.equal(await get().setDisabled(missing, 1), false);
    assert.equal(await get().markEmailVerified(missing, 1), false);
  });

  it('every new password and every disable or enable moves the credential version; a rehash does not', async () => {
    const u = makeUser({ credentialVersion: 7 });
    await get().createUser(u);
    const version = async () => (await get().getUserById(u.id))?.credentialVersion;
    assert.equal(await version(), 7);
    assert.equal(await get().setPasswordHash(u.id, '$argon2id$a'), 8);
    assert.equal(await version(), 8);
    assert.equal(await get().setPasswordHash(u.id, '$argon2id$a'), 9, 'setting the same hash again is still a new credential');
    await get().setDisabled(u.id, 1);
    await get().setDisabled(u.id, null);
    assert.equal(await version(), 11);
    assert.equal(await get().rehashPassword(u.id, '$argon2id$a', '$argon2id$a-stronger'), true);
    assert.deepEqual(await get().getUserById(u.id), { ...u, passwordHash: '$argon2id$a-stronger', credentialVersion: 11 });
  });

  it('rehashPassword is a compare-and-set: a password changed meanwhile is never overwritten', async () => {
    const u = makeUser();
    await get().createUser(u);
    await get().setPasswordHash(u.id, '$argon2id$changed');
    assert.equal(await get().rehashPassword(u.id, u.passwordHash, '$argon2id$old-rehashed'), false);
    assert.equal((await get().getUserById(u.id))?.passwordHash, '$argon2id$changed');
    assert.equal(await get().rehashPassword(rid(), 'x', 'y'), false);
  });

  it('changeEmail moves the lookup to the new address and sets emailVerifiedAt', async () => {
    const u = makeUser({ emailVerifiedAt: 100 });
    await get().createUser(u);
    assert.equal(await get().changeEmail(u.id, 'New@Example.test', 'new@example.test', null), 'ok');
    assert.equal(await get().getUserByEmail(u.emailCanonical), null);
    const got = await get().getUserByEmail('new@example.test');
    assert.deepEqual(got, { ...u, email: 'New@Example.test', emailCanonical: 'new@example.test', emailVerifiedAt: null });
    assert.equal(await get().changeEmail(u.id, 'new@example.test', 'new@example.test', 777), 'ok', 'own address is not taken');
    assert.equal((await get().getUserById(u.id))?.emailVerifiedAt, 777);
  });

  it("changeEmail resolves 'taken' for another user's address and 'missing' for an unknown user", async () => {
    const a = makeUser();
    const b = makeUser();
    await get().createUser(a);
    await get().createUser(b);
    assert.equal(await get().changeEmail(a.id, b.email, b.emailCanonical, null), 'taken');
    assert.deepEqual(await get().getUserById(a.id), a);
    assert.equal(await get().changeEmail(rid(), 'x@example.test', 'x@example.test', null), 'missing');
  });

  it('deleteUser removes the user and frees the address', async () => {
    const u = makeUser();
    await get().createUser(u);
    assert.equal(await get().deleteUser(u.id), true);
    assert.equal(await get().getUserById(u.id), null);
    assert.equal(await get().getUserByEmail(u.emailCanonical), null);
    assert.equal(await get().deleteUser(u.id), false);
    assert.equal(await get().createUser(makeUser({ emailCanonical: u.emailCanonical })), true);
  });
}
