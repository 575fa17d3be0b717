import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { OneTimeTokenStore } from '../../../src/ports.js';
import { makeOneTimeToken, plain, rid } from '../fixtures.js';

export function oneTimeContract(get: () => OneTimeTokenStore): void {
  it('a created one-time token reads back exactly, hash as bytes', async () => {
    const t = makeOneTimeToken({ purpose: 'password_reset', binding: 'b1' });
    await get().createOneTimeToken(t);
    assert.deepEqual(plain(await get().getOneTimeToken(t.id)), t);
    assert.equal(await get().getOneTimeToken(rid()), null);
  });

  it('consumeOneTimeToken marks the token used once; a second call is refused', async () => {
    const t = makeOneTimeToken();
    await get().createOneTimeToken(t);
    const now = t.createdAt + 10;
    assert.equal(await get().consumeOneTimeToken(t.id, now), true);
    assert.equal((await get().getOneTimeToken(t.id))?.usedAt, now);
    assert.equal(await get().consumeOneTimeToken(t.id, now + 1), false);
    assert.equal(await get().consumeOneTimeToken(rid(), now), false);
  });

  it('exactly one of 20 concurrent consumers gets true', async () => {
    const t = makeOneTimeToken();
    await get().createOneTimeToken(t);
    const results = await Promise.all(Array.from({ length: 20 }, () => get().consumeOneTimeToken(t.id, t.createdAt + 1)));
    assert.equal(results.filter(Boolean).length, 1);
  });

  it('consumeOneTimeToken refuses an expired token and leaves it unused', async () => {
    const t = makeOneTimeToken();
    await get().createOneTimeToken(t);
    assert.equal(await get().consumeOneTimeToken(t.id, t.expiresAt + 1), false);
    assert.equal((await get().getOneTimeToken(t.id))?.usedAt, null);
  });

  it('deleteOneTimeTokensByUser deletes that user’s tokens, optionally of one purpose, and counts them', async () => {
    const user = rid('u_');
    const a = makeOneTimeToken({ userId: user, purpose: 'verify_email' });
    const b = makeOneTimeToken({ userId: user, purpose: 'password_reset' });
    const c = makeOneTimeToken({ userId: user, purpose: 'password_reset' });
    const other = makeOneTimeToken({ purpose: 'password_reset' });
    for (const t of [a, b, c, other]) await get().createOneTimeToken(t);
    assert.equal(await get().deleteOneTimeTokensByUser(user, 'password_reset'), 2);
    assert.ok(await get().getOneTimeToken(a.id));
    assert.equal(await get().getOneTimeToken(b.id), null);
    assert.equal(await get().deleteOneTimeTokensByUser(user), 1);
    assert.equal(await get().getOneTimeToken(a.id), null);
    assert.ok(await get().getOneTimeToken(other.id));
  });

  it('deleteExpiredOneTimeTokens removes only expired tokens (stores expiring by TTL may report 0)', async () => {
    const t = Date.now();
    const old = makeOneTimeToken({ createdAt: t, expiresAt: t + 1000 });
    const live = makeOneTimeToken({ createdAt: t, expiresAt: t + 100_000 });
    await get().createOneTimeToken(old);
    await get().createOneTimeToken(live);
    const n = await get().deleteExpiredOneTimeTokens(t + 50_000);
    assert.ok(n === 0 || n === 1, `swept ${n}`);
    if (n === 1) assert.equal(await get().getOneTimeToken(old.id), null);
    assert.ok(await get().getOneTimeToken(live.id));
  });
}
