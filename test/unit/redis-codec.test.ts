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
