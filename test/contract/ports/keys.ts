import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { KeyRecord, KeyStore } from '../../../src/ports.js';
import { makeKey, rid } from '../fixtures.js';

const byKid = (xs: KeyRecord[]) => [...xs].sort((a, b) => (a.kid < b.kid ? -1 : 1));

export function keysContract(get: () => KeyStore): void {
  it('added keys are listed exactly, symmetric keys with a null public JWK', async () => {
    assert.deepEqual(await get().listKeys(), []);
    const a = makeKey();
    const b = makeKey({ alg: 'HS256', publicJwk: null, privateJwk: '{"enc":"envelope"}', encrypted: true, retiredAt: 5, verifyUntil: 9 });
    await get().addKey(a);
    await get().addKey(b);
    assert.deepEqual(byKid(await get().listKeys()), byKid([a, b]));
  });

  it('retireKey sets retiredAt and verifyUntil; unknown kid resolves false', async () => {
    const a = makeKey();
    await get().addKey(a);
    assert.equal(await get().retireKey(a.kid, 100, 200), true);
    assert.deepEqual(await get().listKeys(), [{ ...a, retiredAt: 100, verifyUntil: 200 }]);
    assert.equal(await get().retireKey(rid(), 1, 2), false);
  });

  it('deleteKey removes the key once', async () => {
    const a = makeKey();
    const b = makeKey();
    await get().addKey(a);
    await get().addKey(b);
    assert.equal(await get().deleteKey(a.kid), true);
    assert.deepEqual(await get().listKeys(), [b]);
    assert.equal(await get().deleteKey(a.kid), false);
  });
}
