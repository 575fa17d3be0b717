import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { ProofMarkStore } from '../../../src/ports.js';
import { rid } from '../fixtures.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function proofsContract(get: () => ProofMarkStore): void {
  it('putProofMark records a mark once: a second put of a live mark is refused, other kinds and values are separate', async () => {
    const now = Date.now();
    const v = rid();
    assert.equal(await get().putProofMark('jti', v, now + 60_000, now), true);
    assert.equal(await get().putProofMark('jti', v, now + 60_000, now + 1), false, 'a replay');
    assert.equal(await get().putProofMark('nonce', v, now + 60_000, now), true, 'another kind');
    assert.equal(await get().putProofMark('jti', rid(), now + 60_000, now), true);
    assert.equal(await get().hasProofMark('jti', v, now), true);
    assert.equal(await get().hasProofMark('challenge', v, now), false);
    assert.equal(await get().hasProofMark('jti', rid(), now), false);
  });

  it('concurrent puts of one mark: exactly one caller records it', async () => {
    const now = Date.now();
    const v = rid();
    const results = await Promise.all(Array.from({ length: 12 }, () => get().putProofMark('jti', v, now + 60_000, now)));
    assert.equal(results.filter(Boolean).length, 1);
  });

  it('takeProofMark removes a live mark for exactly one of concurrent callers, then it is gone', async () => {
    const now = Date.now();
    const v = rid();
    assert.equal(await get().takeProofMark('challenge', v, now), false, 'nothing to take');
    await get().putProofMark('challenge', v, now + 60_000, now);
    const results = await Promise.all(Array.from({ length: 8 }, () => get().takeProofMark('challenge', v, now)));
    assert.equal(results.filter(Boolean).length, 1);
    assert.equal(await get().hasProofMark('challenge', v, now), false);
    assert.equal(await get().putProofMark('challenge', v, now + 60_000, now), true, 'it can be issued again');
  });

  it('an expired mark counts as absent: has and take say no, and put records it afresh', async () => {
    const t = Date.now();
    const v = rid();
    const w = rid();
    assert.equal(await get().putProofMark('jti', v, t + 150, t), true);
    assert.equal(await get().putProofMark('challenge', w, t + 150, t), true);
    // Stores that expire by TTL (Redis) follow the real clock: wait it out for every store alike.
    await sleep(300);
    const later = Date.now();
    assert.equal(await get().hasProofMark('jti', v, later), false);
    assert.equal(await get().takeProofMark('challenge', w, later), false);
    assert.equal(await get().putProofMark('jti', v, later + 60_000, later), true);
    assert.equal(await get().hasProofMark('jti', v, later + 1), true);
  });

  it('deleteExpiredProofMarks removes expired marks only (stores expiring by TTL may report 0)', async () => {
    const t = Date.now();
    const old = rid();
    const live = rid();
    await get().putProofMark('nonce', old, t + 100, t);
    await get().putProofMark('nonce', live, t + 600_000, t);
    await sleep(200);
    const n = await get().deleteExpiredProofMarks(Date.now());
    assert.ok(n >= 0, `swept ${n}`);
    assert.equal(await get().hasProofMark('nonce', old, Date.now()), false);
    assert.equal(await get().hasProofMark('nonce', live, Date.now()), true);
  });
}
