/** Refresh-token rotation, reuse detection, concurrent refreshes in the grace window, idle and absolute expiry. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { RefreshTokenStore } from '../../src/ports.js';
import { createMemoryStores } from '../../src/stores/memory/index.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { assertInvalidToken, decode, me, refresh, tokenLogin } from './token-kit.js';

function assertInvalidGrant(r: { status: number; body: any; text: string }, what = ''): void {
  assert.equal(r.status, 400, `${what}: ${r.text.slice(0, 200)}`);
  assert.equal(r.body.error, 'invalid_grant', what);
  assert.equal(r.body.access_token, undefined, what);
}

describe('refresh rotation', () => {
  let t: TestServer;
  /** Successors actually created in the store, per presented refresh-token id. */
  const rotations = new Map<string, number>();
  before(async () => {
    const stores = createMemoryStores();
    const inner: RefreshTokenStore = stores.refreshTokens;
    const rotate = inner.rotateRefreshToken.bind(inner);
    stores.refreshTokens = {
      ...inner,
      createRefreshToken: inner.createRefreshToken.bind(inner),
      getRefreshToken: inner.getRefreshToken.bind(inner),
      deleteRefreshTokensBySession: inner.deleteRefreshTokensBySession.bind(inner),
      deleteRefreshTokensByUser: inner.deleteRefreshTokensByUser.bind(inner),
      deleteExpiredRefreshTokens: inner.deleteExpiredRefreshTokens.bind(inner),
      async rotateRefreshToken(id, successor, now, graceMs, salt) {
        const r = await rotate(id, successor, now, graceMs, salt);
        if (r.kind === 'rotated') rotations.set(id, (rotations.get(id) ?? 0) + 1);
        return r;
      },
    };
    t = await startTestServer({ stores, config: { token: { refreshGrace: '10s' } } });
  });
  after(() => t.close());

  test('a refresh returns a new access token and a new refresh token, and spends the old one', async () => {
    const login = await tokenLogin(t);
    t.clock.advance(1000);
    const r = await refresh(t, login.refresh);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.get('cache-control'), 'no-store');
    assert.equal(r.body.token_type, 'Bearer');
    assert.notEqual(r.body.access_token, login.access);
    assert.notEqual(r.body.refresh_token, login.refresh);
    assert.equal(decode(r.body.access_token).payload.sid, decode(login.access).payload.sid, 'same session');
    assert.equal((await me(t, r.body.access_token)).status, 200);
    const [oldId] = login.refresh.split('.');
    const spent = await t.stores.refreshTokens.getRefreshToken(oldId!);
    assert.ok(spent?.spentAt, 'the old token is spent');
    assert.equal(spent.successorId, r.body.refresh_token.split('.')[0]);
    assert.doesNotMatch(JSON.stringify({ ...spent, successorSalt: null }), new RegExp(login.refresh.split('.')[1]!), 'the store keeps no clear secret');
  });

  test('refresh tokens are opaque (not JWTs) and carry at least 128 bits of secret', async () => {
    const login = await tokenLogin(t);
    const [id, secret] = login.refresh.split('.');
    assert.ok(id && secret);
    assert.equal(login.refresh.split('.').length, 2);
    assert.ok(Buffer.from(secret, 'base64url').length >= 16);
  });

  test('a wrong secret for a known token id is invalid_grant and does not end the session', async () => {
    const login = await tokenLogin(t);
    const [id] = login.refresh.split('.');
    assertInvalidGrant(await refresh(t, `${id}.${'A'.repeat(43)}`), 'wrong secret');
    assert.equal((await me(t, login.access)).status, 200);
    assert.equal((await refresh(t, login.refresh)).status, 200);
  });

  test('reusing a spent refresh token after the grace window is invalid_grant and revokes the whole session', async () => {
    const login = await tokenLogin(t);
    const first = await refresh(t, login.refresh);
    assert.equal(first.status, 200);
    const second = await refresh(t, first.body.refresh_token);
    assert.equal(second.status, 200);
    assert.equal((await me(t, second.body.access_token)).status, 200);

    t.clock.advance(10_001);
    assertInvalidGrant(await refresh(t, login.refresh), 'reuse of the spent token');
    assertInvalidToken(await me(t, second.body.access_token), 'newest access token');
    assertInvalidToken(await me(t, login.access), 'first access token');
    assertInvalidGrant(await refresh(t, second.body.refresh_token), 'newest refresh token');
    const sid = decode(login.access).payload.sid;
    assert.equal(await t.stores.sessions.getSession(sid, t.clock.now()), null, 'the session record is gone');
  });

  test('20 parallel refreshes with one token inside the grace window all get the same successor, and the store never forks', async () => {
    const login = await tokenLogin(t);
    const [oldId] = login.refresh.split('.');
    const results = await Promise.all(Array.from({ length: 20 }, () => refresh(t, login.refresh)));
    for (const r of results) assert.equal(r.status, 200, r.text);
    const successors = new Set(results.map((r) => r.body.refresh_token));
    assert.equal(successors.size, 1, 'one successor for everyone');
    assert.equal(rotations.get(oldId!), 1, 'exactly one successor was created in the store');
    for (const r of results) assert.equal((await me(t, r.body.access_token)).status, 200);

    const [succ] = [...successors];
    const spent = await t.stores.refreshTokens.getRefreshToken(oldId!);
    assert.equal(spent?.successorId, succ!.split('.')[0]);
    const live = await t.stores.refreshTokens.getRefreshToken(succ!.split('.')[0]!);
    assert.equal(live?.spentAt, null, 'the successor is live');

    // The successor rotates normally, exactly once.
    const next = await refresh(t, succ!);
    assert.equal(next.status, 200);
    assert.notEqual(next.body.refresh_token, succ);
    assert.equal(rotations.get(succ!.split('.')[0]!), 1);
    // Inside the grace window a late duplicate of the first token still maps to the same successor, not a new branch.
    const late = await refresh(t, login.refresh);
    assert.equal(late.status, 200);
    assert.equal(late.body.refresh_token, succ);
    assert.equal(rotations.get(oldId!), 1);
  });
});

describe('refresh expiry', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ config: { token: { refreshIdleTtl: '1h', refreshAbsoluteTtl: '3h', refreshGrace: '5s' } } });
  });
  after(() => t.close());

  test('a refresh token unused for longer than the idle lifetime is refused', async () => {
    const login = await tokenLogin(t);
    t.clock.advance(3_600_000 + 1000);
    assertInvalidGrant(await refresh(t, login.refresh), 'idle expiry');
  });

  test('each refresh starts a new idle window', async () => {
    const login = await tokenLogin(t);
    t.clock.advance(50 * 60_000);
    const a = await refresh(t, login.refresh);
    assert.equal(a.status, 200);
    t.clock.advance(50 * 60_000);
    const b = await refresh(t, a.body.refresh_token);
    assert.equal(b.status, 200, 'used within its own idle window');
  });

  test('no refresh outlives the absolute lifetime, however often it is used', async () => {
    const login = await tokenLogin(t);
    let token = login.refresh;
    for (let i = 0; i < 3; i++) {
      t.clock.advance(55 * 60_000);
      const r = await refresh(t, token);
      assert.equal(r.status, 200, `refresh ${i + 1} at ${(i + 1) * 55} min`);
      token = r.body.refresh_token;
    }
    t.clock.advance(20 * 60_000); // 3 h 5 min after login
    assertInvalidGrant(await refresh(t, token), 'absolute expiry');
  });
});
