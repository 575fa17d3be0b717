import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeSession, encodeSession } from '../../src/stores/redis/codec.js';
import { makeSession, plain } from '../contract/fixtures.js';

test('session records survive the compact encoding, including odd strings, unknown device types and times before createdAt', () => {
  const t = 1_790_000_000_000;
  const cases = [
    makeSession({ createdAt: t }),
    makeSession({ createdAt: t, mode: 'token', ip: null, device: { browser: null, os: null, type: null } }),
    makeSession({ createdAt: t, ip: '2001:db8::1', device: { browser: 'A|B%7C', os: '', type: 'smartwatch' } }),
    makeSession({ createdAt: t, device: { browser: 'Chrome', os: 'Android', type: '~odd|type' } }),
    // A clock stepped back between login and re-authentication: authAt before createdAt.
    makeSession({ createdAt: t, authAt: t - 1234, lastSeenAt: t + 5, idleExpiresAt: t + 1_800_000, expiresAt: t + 30 * 86_400_000 }),
  ];
  for (const s of cases) {
    const back = decodeSession(s.id, s.userId, encodeSession(s));
    assert.deepEqual(plain(back), plain(s));
  }
});

test('the encoding stays compact: a browser session with device metadata is under 90 bytes', () => {
  const s = makeSession({ ip: '203.0.113.7', device: { browser: 'Chrome', os: 'Windows', type: 'desktop' } });
  const n = encodeSession(s).byteLength;
  assert.ok(n < 90, `${n} bytes`);
});

const JKT = 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs';
const P256 = '{"crv":"P-256","kty":"EC","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}';

test('device bindings survive the encoding: DPoP thumbprints, DBSC P-256 keys, and any other key JSON', () => {
  const t = 1_790_000_000_000;
  const cases = [
    makeSession({ createdAt: t, mode: 'token', binding: { kind: 'dpop', jkt: JKT } }),
    makeSession({ createdAt: t, binding: { kind: 'dbsc', jkt: JKT, key: P256 } }),
    // Not the canonical P-256 form (member order, curve): kept as escaped JSON.
    makeSession({ createdAt: t, binding: { kind: 'dbsc', jkt: JKT, key: '{"kty":"EC","crv":"P-256","x":"a|b","y":"%c"}' } }),
    makeSession({ createdAt: t, amr: ['hwk', 'user'], acr: 'aal2', credentialVersion: 7, binding: { kind: 'dpop', jkt: JKT } }),
  ];
  for (const s of cases) assert.deepEqual(plain(decodeSession(s.id, s.userId, encodeSession(s))), plain(s));
});

test('a binding costs its thumbprint (DPoP: 48 bytes more) or thumbprint and coordinates (DBSC: 136 bytes more), nothing when unbound', () => {
  const base = makeSession({ ip: '203.0.113.7', device: { browser: 'Chrome', os: 'Windows', type: 'desktop' } });
  const n = encodeSession(base).byteLength;
  const dpop = encodeSession({ ...base, mode: 'token', binding: { kind: 'dpop', jkt: JKT } }).byteLength;
  const dbsc = encodeSession({ ...base, binding: { kind: 'dbsc', jkt: JKT, key: P256 } }).byteLength;
  assert.ok(dpop - n <= 48, `DPoP binding adds ${dpop - n} bytes`);
  assert.ok(dbsc - n <= 136, `DBSC binding adds ${dbsc - n} bytes`);
  assert.ok(dbsc < 230, `${dbsc} bytes`);
});
