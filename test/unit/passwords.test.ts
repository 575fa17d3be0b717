import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PasswordHasher } from '../../src/core/passwords.js';
import { resolveConfig } from '../../src/config.js';

const cheap = { memoryCost: 1024, timeCost: 1, parallelism: 1 };

/** The variant and parameters a PHC string encodes (argon2 writes them in its own key order). */
function phcParams(hash: string): { id: string; m: number; t: number; p: number } {
  const [, id, , params] = hash.split('$');
  const kv = Object.fromEntries(params!.split(',').map((x) => x.split('=') as [string, string]));
  return { id: id!, m: Number(kv.m), t: Number(kv.t), p: Number(kv.p) };
}

describe('PasswordHasher', () => {
  const hasher = new PasswordHasher(cheap);

  it('makes an argon2id PHC string with its parameters and a random salt', async () => {
    const a = await hasher.hash('violet-otter-canyon-57');
    const b = await hasher.hash('violet-otter-canyon-57');
    assert.match(a, /^\$argon2id\$v=19\$[mtp=0-9,]+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/);
    assert.deepEqual(phcParams(a), { id: 'argon2id', m: 1024, t: 1, p: 1 });
    assert.notEqual(a, b, 'two hashes of one password differ by salt');
    assert.ok(!a.includes('violet'));
  });

  it('verifies the right password and refuses a wrong one', async () => {
    const h = await hasher.hash('violet-otter-canyon-57');
    assert.equal(await hasher.verify(h, 'violet-otter-canyon-57'), true);
    assert.equal(await hasher.verify(h, 'violet-otter-canyon-58'), false);
    assert.equal(await hasher.verify(h, 'Violet-otter-canyon-57'), false);
    assert.equal(await hasher.verify(h, ''), false);
  });

  it('never truncates: a password differing only in its last of 1000 characters is refused', async () => {
    const long = 'q'.repeat(999);
    const h = await hasher.hash(long + 'a');
    assert.equal(await hasher.verify(h, long + 'a'), true);
    assert.equal(await hasher.verify(h, long + 'b'), false);
  });

  it('verifies an NFKC-equivalent spelling of the password', async () => {
    const h = await hasher.hash('caf\u00e9-\uFF54\uFF45\uFF52\uFF52\uFF41\uFF43\uFF45');
    assert.equal(await hasher.verify(h, 'cafe\u0301-terrace'), true);
  });

  it('returns false, never throws, for a malformed stored hash', async () => {
    const good = await hasher.hash('violet-otter-canyon-57');
    const bad = [
      '',
      'not a hash',
      '$argon2id$',
      '$argon2id$v=19$m=1024,t=1,p=1$',
      '$argon2id$v=19$m=1024,t=1,p=1$!!!!$????',
      good.slice(0, -10),
      good.replace('m=1024', 'm=abc'),
      '$2b$10$abcdefghijklmnopqrstuuJ9n1fYpP7mZ7Jv0xQbW6W3iX1nJ0a6',
      '$argon2xx$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g',
    ];
    for (const h of bad) assert.equal(await hasher.verify(h, 'violet-otter-canyon-57'), false, JSON.stringify(h));
    assert.equal(await hasher.verify(undefined as unknown as string, 'x'), false);
    assert.equal(await hasher.verify(good, null as unknown as string), false);
  });

  it('reports needsRehash for a hash made with older parameters, and not for current ones', async () => {
    const older = new PasswordHasher({ memoryCost: 1024, timeCost: 1, parallelism: 1 });
    const newer = new PasswordHasher({ memoryCost: 2048, timeCost: 2, parallelism: 1 });
    const h = await older.hash('violet-otter-canyon-57');
    assert.equal(older.needsRehash(h), false);
    assert.equal(newer.needsRehash(h), true);
    assert.equal(newer.needsRehash(await newer.hash('violet-otter-canyon-57')), false);
    // The old hash still verifies under the new hasher, so the login can succeed and rehash.
    assert.equal(await newer.verify(h, 'violet-otter-canyon-57'), true);
  });

  it('reports needsRehash for another argon2 variant or an unreadable hash', async () => {
    const argon2 = await import('argon2');
    const argon2i = await argon2.hash('violet-otter-canyon-57', { type: argon2.argon2i, ...cheap });
    assert.equal(await hasher.verify(argon2i, 'violet-otter-canyon-57'), true);
    assert.equal(hasher.needsRehash(argon2i), true);
    assert.equal(hasher.needsRehash('garbage'), true);
    assert.equal(hasher.needsRehash('$argon2id$v=19$nonsense'), true);
  });

  it('dummyVerify resolves for any input, including concurrent first calls', async () => {
    const fresh = new PasswordHasher(cheap);
    await Promise.all([fresh.dummyVerify('x'), fresh.dummyVerify('y')]);
    await fresh.dummyVerify('whatever-was-typed');
    await fresh.dummyVerify(undefined as unknown as string);
  });

  it('dummyVerify costs about as much as a real wrong-password verify', async () => {
    // Heavier than the other tests so that the hash dominates timer noise.
    const params = { memoryCost: 8192, timeCost: 2, parallelism: 1 };
    const h = new PasswordHasher(params);
    const stored = await h.hash('violet-otter-canyon-57');
    await h.dummyVerify('warm-up'); // the one-time reference hash is not part of the measure
    // Interleaved and compared by median, so a burst of load on a shared machine hits both sides.
    const real: number[] = [];
    const dummy: number[] = [];
    for (let i = 0; i < 9; i++) {
      let t0 = performance.now();
      await h.verify(stored, 'wrong-password-here');
      real.push(performance.now() - t0);
      t0 = performance.now();
      await h.dummyVerify('wrong-password-here');
      dummy.push(performance.now() - t0);
    }
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[xs.length >> 1]!;
    const ratio = median(dummy) / median(real);
    assert.ok(ratio > 0.5 && ratio < 2, `dummy ${median(dummy).toFixed(2)} ms vs real ${median(real).toFixed(2)} ms`);
  });

  it('hashes off the event loop: timers keep firing while a hash runs', async () => {
    const h = new PasswordHasher({ memoryCost: 16384, timeCost: 3, parallelism: 1 });
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    try {
      const t0 = performance.now();
      await h.hash('violet-otter-canyon-57');
      const elapsed = performance.now() - t0;
      // A blocking hash would allow no tick at all until it returned.
      if (elapsed > 5) assert.ok(ticks >= 1, `no timer fired during a ${elapsed.toFixed(1)} ms hash`);
    } finally {
      clearInterval(timer);
    }
  });

  it('refuses impossible parameters at construction', () => {
    assert.throws(() => new PasswordHasher({ memoryCost: 0, timeCost: 1, parallelism: 1 }), TypeError);
    assert.throws(() => new PasswordHasher({ memoryCost: 1024, timeCost: 1.5, parallelism: 1 }), TypeError);
    assert.throws(() => new PasswordHasher({ memoryCost: 16, timeCost: 1, parallelism: 4 }), TypeError);
    assert.throws(() => new PasswordHasher(undefined as never), TypeError);
  });
});

describe('PasswordHasher with production defaults', () => {
  it('uses argon2id m=19456, t=2, p=1 from the default config and encodes them in the hash', async () => {
    const { passwordHashing } = resolveConfig({});
    assert.equal(passwordHashing.memoryCost, 19456);
    assert.equal(passwordHashing.timeCost, 2);
    assert.equal(passwordHashing.parallelism, 1);
    const hasher = new PasswordHasher(passwordHashing);
    const h = await hasher.hash('violet-otter-canyon-57');
    assert.deepEqual(phcParams(h), { id: 'argon2id', m: 19456, t: 2, p: 1 });
    assert.equal(await hasher.verify(h, 'violet-otter-canyon-57'), true);
    assert.equal(hasher.needsRehash(h), false);
  });
});
