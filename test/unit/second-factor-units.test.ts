/** Small pieces of the second factors: the requirement check of requireAuth, recovery-code form, TOTP drift and sealing. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RecoveryCodes } from '../../src/core/methods/recovery.js';
import { TotpMethod } from '../../src/core/methods/totp.js';
import { seal, unseal } from '../../src/core/seal.js';
import { systemRandom } from '../../src/core/crypto.js';
import { compileRequirement } from '../../src/http/middleware.js';
import { createMemoryRecoveryCodeStore, createMemoryTotpStore } from '../../src/stores/memory/factors.js';
import { TestClock } from '../support/clock.js';
import { totpCode } from '../support/webauthn.js';
import type { AuthContext } from '../../src/core/session-control.js';

const ctx = (acr: 'aal1' | 'aal2', authAt: number, bearer = false): AuthContext =>
  ({
    user: { id: 'u', email: 'u@example.com', createdAt: 0, emailVerified: true },
    sessionId: 's',
    mode: bearer ? 'token' : 'session',
    session: bearer ? null : ({ acr, authAt } as never),
    claims: bearer ? ({ acr, auth_time: Math.floor(authAt / 1000) } as never) : null,
  }) as AuthContext;

describe('requireAuth requirements', () => {
  test('misuse is a TypeError when the middleware is made, not a 500 per request', () => {
    assert.throws(() => compileRequirement({ acr: 'aal3' as never }), TypeError);
    assert.throws(() => compileRequirement({ maxAge: 'ten minutes' }), TypeError);
    assert.throws(() => compileRequirement({ maxAge: 0 }), TypeError);
    assert.equal(compileRequirement(undefined), null);
    assert.equal(compileRequirement({}), null);
  });

  test('acr and maxAge from the session record (cookie) and from the claims (bearer)', () => {
    const now = 1_000_000_000_000;
    const check = compileRequirement({ acr: 'aal2', maxAge: '10m' })!;
    for (const bearer of [false, true]) {
      assert.equal(check(ctx('aal2', now - 60_000, bearer), now), null);
      assert.equal(check(ctx('aal1', now - 60_000, bearer), now), 'aal2');
      assert.equal(check(ctx('aal2', now - 11 * 60_000, bearer), now), 'aal2');
    }
    const recentOnly = compileRequirement({ maxAge: 60_000 })!;
    assert.equal(recentOnly(ctx('aal1', now - 30_000), now), null);
    assert.equal(recentOnly(ctx('aal1', now - 61_000), now), 'aal1');
  });
});

describe('TOTP', () => {
  test('accepts one step of drift either way, not two; the secret is sealed when a secret is set', async () => {
    const clock = new TestClock(1_800_000_000_000);
    const store = createMemoryTotpStore();
    const totp = new TotpMethod(store, 'a unit-test secret of at least thirty-two chars', 'Gatehouse', clock, systemRandom);
    const e = (await totp.begin('u1', 'u1@example.com'))!;
    assert.match(e.uri, /^otpauth:\/\/totp\/Gatehouse:u1%40example\.com\?/);
    assert.match(e.uri, /issuer=Gatehouse/);
    const rec = await store.getTotp('u1');
    assert.equal(rec?.encrypted, true);
    assert.ok(!rec!.secret.includes(e.secret));
    assert.equal(await totp.confirm('u1', totpCode(e.secret, clock.now(), -2)), false, 'two steps back');
    assert.equal(await totp.confirm('u1', totpCode(e.secret, clock.now(), 2)), false, 'two steps ahead');
    assert.equal(await totp.confirm('u1', totpCode(e.secret, clock.now(), -1)), true, 'one step back');
    assert.equal(await totp.verify('u1', totpCode(e.secret, clock.now(), 1)), true, 'one step ahead');
    assert.equal(await totp.verify('u1', totpCode(e.secret, clock.now(), 0)), false, 'an earlier step after a later one');
    assert.equal(await totp.verify('u1', 'abcdef'), false);
    assert.equal(await totp.verify('u1', '1234567'), false);
  });

  test('a sealed envelope opens only with its secret and its label', () => {
    const s = seal('k'.repeat(32), 'JBSWY3DPEHPK3PXP', systemRandom, 'gatehouse/totp-secret/v1');
    assert.equal(unseal('k'.repeat(32), s, 'gatehouse/totp-secret/v1'), 'JBSWY3DPEHPK3PXP');
    assert.throws(() => unseal('x'.repeat(32), s, 'gatehouse/totp-secret/v1'));
    assert.throws(() => unseal('k'.repeat(32), s, 'gatehouse/private-key-seal/v1'));
  });
});

describe('recovery codes', () => {
  test('ten distinct 80-bit codes; typed in lower case or without dashes they still work, once', async () => {
    const clock = new TestClock();
    const rc = new RecoveryCodes(createMemoryRecoveryCodeStore(), clock, systemRandom);
    const codes = await rc.generate('u');
    assert.equal(new Set(codes).size, 10);
    assert.equal(await rc.use('u', codes[0]!.toLowerCase().replace(/-/g, '')), true);
    assert.equal(await rc.use('u', codes[0]!), false);
    assert.equal(await rc.use('u', 'not a code'), false);
    assert.equal(await rc.use('u', 'A'.repeat(500)), false);
    assert.equal(await rc.count('u'), 9);
  });
});
