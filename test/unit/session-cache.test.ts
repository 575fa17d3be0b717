import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SessionCache } from '../../src/core/session-cache.js';
import { ownedId } from '../../src/ids.js';
import type { SessionRecord } from '../../src/ports.js';

const USER = 'Ab3_x-Yz0123456789abcd';
const T = 1_764_000_000_123;

function record(over: Partial<SessionRecord> = {}): SessionRecord {
  return {
    id: ownedId('R'.repeat(22), USER),
    userId: USER,
    secretHash: Uint8Array.from({ length: 32 }, (_, i) => (i * 37 + 1) & 255),
    mode: 'session',
    createdAt: T,
    lastSeenAt: T + 5_000,
    idleExpiresAt: T + 1_800_000,
    expiresAt: T + 43_200_000,
    authAt: T - 1,
    amr: ['pwd'],
    acr: 'aal1',
    credentialVersion: 0,
    ip: '203.0.113.7',
    device: { browser: 'Firefox 133', os: 'Linux', type: 'desktop' },
    binding: null,
    ...over,
  };
}

/** What a caller can observe of a record (the hash as plain bytes, whatever its container). */
const view = (r: SessionRecord | undefined) => (r === undefined ? undefined : { ...r, secretHash: [...r.secretHash] });

describe('the packed session cache', () => {
  const cases: Array<[string, Partial<SessionRecord>]> = [
    ['a cookie session from a browser', {}],
    ['a token session without ip or device, stepped up with two factors', { mode: 'token', secretHash: new Uint8Array(32), ip: null, device: { browser: null, os: null, type: null }, amr: ['pwd', 'otp'], acr: 'aal2', credentialVersion: 41 }],
    ['empty strings apart from absent values', { ip: '', device: { browser: '', os: null, type: '' }, amr: [] }],
    ['a DPoP-bound session', { binding: { kind: 'dpop', jkt: 'thumbprint-abc' } }],
    ['a DBSC-bound session', { binding: { kind: 'dbsc', jkt: 'thumb', key: '{"kty":"EC","crv":"P-256","x":"a","y":"b"}' } }],
    ['a plain id that does not name its user', { id: 'plain-session-id', userId: 'someone else' }],
    ['an owned-looking id of another user', { id: ownedId('Q'.repeat(22), 'other'), userId: USER }],
    ['device text with non-Latin characters', { device: { browser: 'Navigateur é 浏览器 🦊', os: 'Linux', type: 'desktop' } }],
  ];
  for (const [name, over] of cases) {
    test(`gives back exactly what was cached: ${name}`, () => {
      const c = new SessionCache(10);
      const rec = record(over);
      c.set(rec, T + 60_000);
      assert.deepEqual(view(c.get(rec.id, T)), view(rec));
    });
  }

  test('an entry is gone at its cache deadline, not before', () => {
    const c = new SessionCache(10);
    const rec = record();
    c.set(rec, T + 60_000);
    assert.ok(c.get(rec.id, T + 59_999));
    assert.equal(c.get(rec.id, T + 60_000), undefined);
    assert.equal(c.size, 0);
  });

  test('each hit is a fresh object: a caller changing it does not change the cache', () => {
    const c = new SessionCache(10);
    const rec = record();
    c.set(rec, T + 60_000);
    const a = c.get(rec.id, T)!;
    a.amr.push('otp');
    a.device.os = 'changed';
    a.secretHash[0] = 0;
    assert.deepEqual(view(c.get(rec.id, T)), view(rec));
  });

  test('the bound evicts the oldest inserted entry; zero caches nothing', () => {
    const c = new SessionCache(2);
    const ids = ['A', 'B', 'C'].map((ch) => ownedId(ch.repeat(22), USER));
    for (const id of ids) c.set(record({ id }), T + 60_000);
    assert.equal(c.size, 2);
    assert.equal(c.get(ids[0]!, T), undefined);
    assert.ok(c.get(ids[2]!, T));
    const off = new SessionCache(0);
    off.set(record(), T + 60_000);
    assert.equal(off.size, 0);
  });

  test('what would not round-trip is not cached (read from the store instead)', () => {
    const c = new SessionCache(10);
    for (const over of [{ ip: 'a\u0001b' }, { amr: ['with space'] }, { lastSeenAt: T + 0.5 }, { secretHash: new Uint8Array(16) }] as Partial<SessionRecord>[]) {
      const rec = record(over);
      c.set(rec, T + 60_000);
      assert.equal(c.get(rec.id, T), undefined, JSON.stringify(Object.keys(over)));
    }
    assert.equal(c.size, 0);
  });

  test('delete and clear remove entries', () => {
    const c = new SessionCache(10);
    const rec = record();
    c.set(rec, T + 60_000);
    assert.equal(c.delete(rec.id), true);
    assert.equal(c.get(rec.id, T), undefined);
    c.set(rec, T + 60_000);
    c.clear();
    assert.equal(c.size, 0);
  });
});
