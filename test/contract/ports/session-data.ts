import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { SessionStore } from '../../../src/ports.js';
import { makeSession, rid } from '../fixtures.js';

const MANY = { maxPerUser: 100 };
const BIG = 64 * 1024;

export function sessionDataContract(get: () => SessionStore): void {
  it('session data starts empty and is null for an unknown session', async () => {
    const s = makeSession();
    await get().createSession(s, MANY);
    assert.deepEqual(await get().getSessionData(s.id), {});
    assert.equal(await get().getSessionData(rid()), null);
  });

  it('patchSessionData merges per key: named keys are set or unset, others are left as they are', async () => {
    const s = makeSession();
    await get().createSession(s, MANY);
    const nested = { list: [1, 'two', null, true, { deep: -1.5 }], empty: {} };
    assert.equal(await get().patchSessionData(s.id, { set: { a: 1, b: nested, c: 'x' }, unset: [] }, BIG), 'ok');
    assert.equal(await get().patchSessionData(s.id, { set: { c: null, d: false }, unset: ['a', 'never-set'] }, BIG), 'ok');
    assert.deepEqual(await get().getSessionData(s.id), { b: nested, c: null, d: false });
  });

  it("patchSessionData resolves 'missing' for an unknown session and creates nothing", async () => {
    const id = rid();
    assert.equal(await get().patchSessionData(id, { set: { a: 1 }, unset: [] }, BIG), 'missing');
    assert.equal(await get().getSessionData(id), null);
  });

  it("patchSessionData refuses a merged result over maxBytes (UTF-8 bytes) with 'too_large' and writes nothing", async () => {
    const s = makeSession();
    await get().createSession(s, MANY);
    assert.equal(await get().patchSessionData(s.id, { set: { a: 'x'.repeat(40) }, unset: [] }, 64), 'ok');
    // The patch alone fits; merged with what is stored it does not.
    assert.equal(await get().patchSessionData(s.id, { set: { b: 'y'.repeat(30) }, unset: [] }, 64), 'too_large');
    assert.deepEqual(await get().getSessionData(s.id), { a: 'x'.repeat(40) });
    // 20 characters but 40 UTF-8 bytes: the limit counts bytes.
    assert.equal(await get().patchSessionData(s.id, { set: { b: 'é'.repeat(20) }, unset: ['a'] }, 40), 'too_large');
    assert.deepEqual(await get().getSessionData(s.id), { a: 'x'.repeat(40) });
    assert.equal(await get().patchSessionData(s.id, { set: { b: 'é'.repeat(20) }, unset: ['a'] }, 64), 'ok');
    assert.deepEqual(await get().getSessionData(s.id), { b: 'é'.repeat(20) });
  });

  it('50 concurrent patches of different keys all survive', async () => {
    const s = makeSession();
    await get().createSession(s, MANY);
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => get().patchSessionData(s.id, { set: { [`k${i}`]: i }, unset: [] }, BIG)),
    );
    assert.ok(results.every((r) => r === 'ok'));
    const data = await get().getSessionData(s.id);
    assert.deepEqual(data, Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, i])));
  });

  it('deleting a session deletes its data', async () => {
    const s = makeSession();
    await get().createSession(s, MANY);
    await get().patchSessionData(s.id, { set: { cart: [1, 2] }, unset: [] }, BIG);
    await get().deleteSession(s.id);
    assert.equal(await get().getSessionData(s.id), null);
    assert.equal(await get().patchSessionData(s.id, { set: { a: 1 }, unset: [] }, BIG), 'missing');
  });

  it('an evicted session loses its data with it', async () => {
    const t = Date.now();
    const first = makeSession({ createdAt: t });
    await get().createSession(first, MANY);
    await get().patchSessionData(first.id, { set: { a: 1 }, unset: [] }, BIG);
    const second = makeSession({ userId: first.userId, createdAt: t + 1 });
    const evicted = await get().createSession(second, { maxPerUser: 1 });
    assert.deepEqual(evicted.map((s) => s.id), [first.id]);
    assert.equal(await get().getSessionData(first.id), null);
    assert.deepEqual(await get().getSessionData(second.id), {});
  });
}
