import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { RefreshTokenStore } from '../../../src/ports.js';
import { hash32, makeRefreshToken, ownedBy, plain, rid } from '../fixtures.js';

const GRACE = 10_000;

export function refreshContract(get: () => RefreshTokenStore): void {
  it('a created refresh token reads back exactly, hashes as bytes', async () => {
    const t = makeRefreshToken();
    await get().createRefreshToken(t);
    assert.deepEqual(plain(await get().getRefreshToken(t.id)), t);
    assert.equal(await get().getRefreshToken(rid()), null);
  });

  it("rotating a live token spends it, records its successor and salt, inserts the successor → 'rotated'", async () => {
    const t = makeRefreshToken();
    await get().createRefreshToken(t);
    const next = makeRefreshToken({ sessionId: t.sessionId, userId: t.userId });
    const salt = hash32();
    const now = t.createdAt + 1000;
    const r = await get().rotateRefreshToken(t.id, next, now, GRACE, salt);
    const spent = { ...t, spentAt: now, successorId: next.id, successorSalt: salt };
    assert.equal(r.kind, 'rotated');
    assert.deepEqual(plain(r.kind === 'rotated' ? r.token : null), spent);
    assert.deepEqual(plain(await get().getRefreshToken(t.id)), spent);
    assert.deepEqual(plain(await get().getRefreshToken(next.id)), next);
  });

  it("rotating within graceMs of the spend resolves 'grace' with the spent record and inserts nothing", async () => {
    const t = makeRefreshToken();
    await get().createRefreshToken(t);
    const next = makeRefreshToken({ sessionId: t.sessionId, userId: t.userId });
    const salt = hash32();
    const now = t.createdAt + 1000;
    await get().rotateRefreshToken(t.id, next, now, GRACE, salt);
    const late = makeRefreshToken({ sessionId: t.sessionId, userId: t.userId });
    const r = await get().rotateRefreshToken(t.id, late, now + GRACE, GRACE, hash32());
    assert.equal(r.kind, 'grace');
    assert.deepEqual(plain(r.kind === 'grace' ? r.token : null), { ...t, spentAt: now, successorId: next.id, successorSalt: salt });
    assert.equal(await get().getRefreshToken(late.id), null);
  });

  it("rotating a token spent longer than graceMs ago resolves 'reused' and inserts nothing", async () => {
    const t = makeRefreshToken();
    await get().createRefreshToken(t);
    const now = t.createdAt + 1000;
    const next = makeRefreshToken({ sessionId: t.sessionId, userId: t.userId });
    await get().rotateRefreshToken(t.id, next, now, GRACE, hash32());
    const again = makeRefreshToken({ sessionId: t.sessionId, userId: t.userId });
    const r = await get().rotateRefreshToken(t.id, again, now + GRACE + 1, GRACE, hash32());
    assert.equal(r.kind, 'reused');
    assert.equal(r.kind === 'reused' ? r.token.successorId : null, next.id);
    assert.equal(await get().getRefreshToken(again.id), null);
  });

  it("rotating an unknown token resolves 'missing' and inserts nothing", async () => {
    const next = makeRefreshToken();
    assert.deepEqual(await get().rotateRefreshToken(rid(), next, Date.now(), GRACE, hash32()), { kind: 'missing' });
    assert.equal(await get().getRefreshToken(next.id), null);
  });

  it("20 concurrent rotations of one token give exactly one 'rotated' and insert one successor", async () => {
    const t = makeRefreshToken();
    await get().createRefreshToken(t);
    const now = t.createdAt + 1000;
    const successors = Array.from({ length: 20 }, () => makeRefreshToken({ sessionId: t.sessionId, userId: t.userId }));
    const results = await Promise.all(successors.map((s) => get().rotateRefreshToken(t.id, s, now, GRACE, hash32())));
    assert.equal(results.filter((r) => r.kind === 'rotated').length, 1);
    assert.equal(results.filter((r) => r.kind === 'grace').length, 19);
    const stored = await Promise.all(successors.map((s) => get().getRefreshToken(s.id)));
    const inserted = stored.filter((x) => x !== null);
    assert.equal(inserted.length, 1);
    assert.equal((await get().getRefreshToken(t.id))?.successorId, inserted[0]!.id);
  });

  it('deleteRefreshTokensBySession and deleteRefreshTokensByUser delete exactly those tokens and count them', async () => {
    const user = rid('u_');
    const session = ownedBy(user);
    const a = makeRefreshToken({ sessionId: session, userId: user });
    const b = makeRefreshToken({ sessionId: session, userId: user });
    const c = makeRefreshToken({ userId: user });
    const other = makeRefreshToken();
    for (const t of [a, b, c, other]) await get().createRefreshToken(t);
    assert.equal(await get().deleteRefreshTokensBySession(session), 2);
    assert.equal(await get().getRefreshToken(a.id), null);
    assert.ok(await get().getRefreshToken(c.id));
    assert.equal(await get().deleteRefreshTokensByUser(user), 1);
    assert.equal(await get().getRefreshToken(c.id), null);
    assert.ok(await get().getRefreshToken(other.id));
    assert.equal(await get().deleteRefreshTokensBySession(session), 0);
  });

  it('deleteExpiredRefreshTokens removes only expired tokens (stores expiring by TTL may report 0)', async () => {
    const t = Date.now();
    const old = makeRefreshToken({ createdAt: t, expiresAt: t + 1000 });
    const live = makeRefreshToken({ createdAt: t, expiresAt: t + 100_000 });
    await get().createRefreshToken(old);
    await get().createRefreshToken(live);
    const n = await get().deleteExpiredRefreshTokens(t + 50_000);
    assert.ok(n === 0 || n === 1, `swept ${n}`);
    if (n === 1) assert.equal(await get().getRefreshToken(old.id), null);
    assert.ok(await get().getRefreshToken(live.id));
  });
}
