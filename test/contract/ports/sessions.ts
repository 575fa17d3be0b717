import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { SessionRecord, SessionStore } from '../../../src/ports.js';
import { makeSession, plain, rid } from '../fixtures.js';

const MANY = { maxPerUser: 100 };
const JKT = 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs';
const JKT2 = 'oKIywvGUpTVTyxMQ3bwIIeQUudfr_CkLMjCE19ECD-U';
const P256 = '{"crv":"P-256","kty":"EC","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}';
const ids = (xs: SessionRecord[]) => xs.map((s) => s.id);

export function sessionsContract(get: () => SessionStore): void {
  it('countLiveSessions counts the sessions live at `now`, per mode, and none that expired (idle or absolute)', async () => {
    // Far in the future, so that only this test's sessions are live then, whatever the others left.
    const T = Date.now() + 40 * 365 * 86_400_000;
    const live = (mode: 'session' | 'token') => makeSession({ mode, createdAt: T - 1000, lastSeenAt: T - 1000, authAt: T - 1000, idleExpiresAt: T + 60_000, expiresAt: T + 120_000 });
    const before = await get().countLiveSessions(T);
    for (const s of [live('session'), live('session'), live('token')]) await get().createSession(s, MANY);
    await get().createSession(makeSession({ createdAt: T - 2000, lastSeenAt: T - 2000, authAt: T - 2000, idleExpiresAt: T - 1, expiresAt: T + 120_000 }), MANY);
    await get().createSession(makeSession({ mode: 'token', createdAt: T - 2000, lastSeenAt: T - 2000, authAt: T - 2000, idleExpiresAt: T + 60_000, expiresAt: T }), MANY);
    const after = await get().countLiveSessions(T);
    assert.deepEqual({ session: after.session - before.session, token: after.token - before.token }, { session: 2, token: 1 });
    assert.deepEqual(await get().countLiveSessions(T + 10 * 365 * 86_400_000), { session: 0, token: 0 }, 'none live much later');
  });

  it('a created session reads back exactly, secret hash as bytes, device and nulls included', async () => {
    const s = makeSession({ mode: 'token', secretHash: new Uint8Array(32), ip: null, device: { browser: null, os: 'iOS', type: null } });
    const t = makeSession();
    assert.deepEqual(await get().createSession(s, MANY), []);
    assert.deepEqual(await get().createSession(t, MANY), []);
    assert.deepEqual(plain(await get().getSession(s.id, s.createdAt)), s);
    assert.deepEqual(plain(await get().getSession(t.id, t.createdAt + 1000)), t);
    assert.equal(await get().getSession(rid(), Date.now()), null);
  });

  it('mutating a record after create or after read does not change the store', async () => {
    const s = makeSession();
    const copy = plain(s);
    await get().createSession(s, MANY);
    s.secretHash[0] = s.secretHash[0]! ^ 0xff;
    s.device.browser = 'changed';
    const got = await get().getSession(s.id, copy.createdAt);
    assert.ok(got);
    got.secretHash[1] = got.secretHash[1]! ^ 0xff;
    got.device.os = 'changed';
    assert.deepEqual(plain(await get().getSession(s.id, copy.createdAt)), copy);
  });

  it('getSession treats an idle-expired or absolute-expired session as absent, even before any sweep', async () => {
    const t = Date.now();
    const idle = makeSession({ createdAt: t, idleExpiresAt: t + 60_000, expiresAt: t + 120_000 });
    const abs = makeSession({ createdAt: t, idleExpiresAt: t + 60_000, expiresAt: t + 120_000 });
    await get().createSession(idle, MANY);
    await get().createSession(abs, MANY);
    assert.ok(await get().getSession(idle.id, t + 59_999));
    assert.equal(await get().getSession(idle.id, t + 60_000), null, 'idle expiry');
    await get().touchSession(abs.id, t + 50_000, t + 500_000);
    assert.ok(await get().getSession(abs.id, t + 119_999));
    assert.equal(await get().getSession(abs.id, t + 120_000), null, 'absolute expiry');
  });

  it('createSession evicts the oldest sessions of the same user and mode beyond maxPerUser and resolves them', async () => {
    const t = Date.now();
    const user = rid('u_');
    const olds = [0, 1, 2].map((i) => makeSession({ userId: user, createdAt: t + i }));
    const token = makeSession({ userId: user, mode: 'token', createdAt: t - 10 });
    const other = makeSession({ createdAt: t - 10 });
    for (const s of [olds[2]!, token, olds[0]!, other, olds[1]!]) await get().createSession(s, MANY);
    const fresh = makeSession({ userId: user, createdAt: t + 3 });
    const evicted = await get().createSession(fresh, { maxPerUser: 2 });
    assert.deepEqual(plain(evicted).sort((a, b) => a.createdAt - b.createdAt), [olds[0], olds[1]]);
    assert.equal(await get().getSession(olds[0]!.id, t), null);
    assert.equal(await get().getSession(olds[1]!.id, t), null);
    assert.ok(await get().getSession(olds[2]!.id, t));
    assert.ok(await get().getSession(fresh.id, t), 'the new session is kept');
    assert.ok(await get().getSession(token.id, t), 'another mode is not counted');
    assert.ok(await get().getSession(other.id, t), 'another user is not counted');
  });

  it('createSession never evicts the new session, even when it is the oldest', async () => {
    const t = Date.now();
    const user = rid('u_');
    const existing = makeSession({ userId: user, createdAt: t });
    await get().createSession(existing, MANY);
    const backdated = makeSession({ userId: user, createdAt: t - 1000 });
    const evicted = await get().createSession(backdated, { maxPerUser: 1 });
    assert.deepEqual(ids(evicted), [existing.id]);
    assert.ok(await get().getSession(backdated.id, t));
    assert.equal(await get().getSession(existing.id, t), null);
  });

  it('touchSession moves lastSeenAt and idleExpiresAt forward only, and never past expiresAt', async () => {
    const t = Date.now();
    const s = makeSession({ createdAt: t, idleExpiresAt: t + 1000, expiresAt: t + 10_000 });
    await get().createSession(s, MANY);
    assert.equal(await get().touchSession(s.id, t + 500, t + 1500), true);
    let got = await get().getSession(s.id, t + 600);
    assert.equal(got?.lastSeenAt, t + 500);
    assert.equal(got?.idleExpiresAt, t + 1500);
    await get().touchSession(s.id, t + 100, t + 1100);
    got = await get().getSession(s.id, t + 600);
    assert.equal(got?.lastSeenAt, t + 500, 'lastSeenAt never moves backward');
    assert.equal(got?.idleExpiresAt, t + 1500, 'idleExpiresAt never moves backward');
    await get().touchSession(s.id, t + 900, t + 50_000);
    got = await get().getSession(s.id, t + 1000);
    assert.equal(got?.lastSeenAt, t + 900);
    assert.equal(got?.idleExpiresAt, t + 10_000, 'capped at the absolute expiry');
    assert.equal(got?.expiresAt, t + 10_000);
    assert.equal(await get().touchSession(rid(), t, t + 1), false);
  });

  it('keeps how a session was authenticated: amr, acr and the credential version', async () => {
    const plain = makeSession();
    const strong = makeSession({ amr: ['pwd', 'otp', 'mfa'], acr: 'aal2', credentialVersion: 41 });
    const passkey = makeSession({ amr: ['hwk', 'user'], acr: 'aal2', credentialVersion: 1_000_000 });
    const none = makeSession({ amr: [], mode: 'token' });
    for (const s of [plain, strong, passkey, none]) {
      await get().createSession(s, MANY);
      const got = await get().getSession(s.id, s.createdAt);
      assert.deepEqual({ amr: got?.amr, acr: got?.acr, credentialVersion: got?.credentialVersion }, { amr: s.amr, acr: s.acr, credentialVersion: s.credentialVersion });
    }
  });

  it('setSessionAuth records a step-up (auth time, methods, level) and leaves the rest as it was', async () => {
    const s = makeSession({ credentialVersion: 3 });
    await get().createSession(s, MANY);
    const auth = { authAt: s.createdAt + 42, amr: ['pwd', 'otp', 'mfa'], acr: 'aal2' as const, credentialVersion: 4 };
    assert.equal(await get().setSessionAuth(s.id, auth), true);
    const got = await get().getSession(s.id, s.createdAt);
    assert.deepEqual(got, { ...s, ...auth, secretHash: got!.secretHash });
    assert.deepEqual(Buffer.from(got!.secretHash), Buffer.from(s.secretHash));
    assert.equal(await get().touchSession(s.id, s.createdAt + 1000, s.createdAt + 5000), true, 'a touch after a step-up keeps it');
    assert.deepEqual((await get().getSession(s.id, s.createdAt))?.amr, auth.amr);
    assert.equal(await get().setSessionAuth(rid(), auth), false);
  });

  it('keeps the device binding a session starts with (DPoP) and reads it back exactly', async () => {
    const dpop = makeSession({ mode: 'token', binding: { kind: 'dpop', jkt: JKT } });
    const dbsc = makeSession({ binding: { kind: 'dbsc', jkt: JKT2, key: P256 } });
    for (const s of [dpop, dbsc]) {
      await get().createSession(s, MANY);
      assert.deepEqual((await get().getSession(s.id, s.createdAt))?.binding, s.binding);
    }
    const listed = await get().listSessionsByUser(dbsc.userId, dbsc.createdAt);
    assert.deepEqual(listed.map((s) => s.binding), [dbsc.binding]);
  });

  it('bindSession binds an unbound session once: a binding is never replaced, and a missing session says so', async () => {
    const s = makeSession({ credentialVersion: 2, amr: ['pwd', 'otp', 'mfa'], acr: 'aal2' });
    await get().createSession(s, MANY);
    const binding = { kind: 'dbsc' as const, jkt: JKT, key: P256 };
    assert.equal(await get().bindSession(s.id, binding), 'ok');
    assert.deepEqual(plain(await get().getSession(s.id, s.createdAt)), { ...plain(s), binding });
    assert.equal(await get().bindSession(s.id, { kind: 'dbsc', jkt: JKT2, key: P256 }), 'bound');
    assert.deepEqual((await get().getSession(s.id, s.createdAt))?.binding, binding, 'the first key stays');
    // Other writes keep it.
    assert.equal(await get().touchSession(s.id, s.createdAt + 1000, s.createdAt + 5000), true);
    assert.equal(await get().setSessionAuth(s.id, { authAt: s.createdAt + 2, amr: ['pwd'], acr: 'aal1', credentialVersion: 3 }), true);
    assert.deepEqual((await get().getSession(s.id, s.createdAt))?.binding, binding);
    assert.equal(await get().bindSession(rid(), binding), 'missing');
    // A plain password session with every optional field at its default binds too.
    const bare = makeSession({ ip: null, device: { browser: null, os: null, type: null } });
    await get().createSession(bare, MANY);
    assert.equal(await get().bindSession(bare.id, { kind: 'dbsc', jkt: JKT, key: '{"kty":"EC","crv":"P-384","x":"a|b%","y":"c"}' }), 'ok');
    assert.deepEqual((await get().getSession(bare.id, bare.createdAt))?.binding, { kind: 'dbsc', jkt: JKT, key: '{"kty":"EC","crv":"P-384","x":"a|b%","y":"c"}' });
  });

  it('concurrent bindSession calls on one session: exactly one key wins', async () => {
    const s = makeSession();
    await get().createSession(s, MANY);
    const keys = [JKT, JKT2, JKT.replace(/^./, 'z'), JKT2.replace(/^./, 'z')];
    const results = await Promise.all(keys.map((jkt) => get().bindSession(s.id, { kind: 'dbsc', jkt, key: P256 })));
    assert.deepEqual(results.filter((r) => r === 'ok').length, 1);
    const winner = keys[results.indexOf('ok')];
    assert.equal((await get().getSession(s.id, s.createdAt))?.binding?.jkt, winner);
  });

  it('listSessionsByUser resolves live sessions of that user, oldest first, excluding expired ones', async () => {
    const t = Date.now();
    const user = rid('u_');
    const a = makeSession({ userId: user, createdAt: t + 2 });
    const b = makeSession({ userId: user, createdAt: t + 1, mode: 'token' });
    const idle = makeSession({ userId: user, createdAt: t, idleExpiresAt: t + 5000 });
    const abs = makeSession({ userId: user, createdAt: t, idleExpiresAt: t + 9000, expiresAt: t + 9000 });
    const other = makeSession({ createdAt: t });
    for (const s of [a, b, idle, abs, other]) await get().createSession(s, MANY);
    assert.deepEqual(ids(await get().listSessionsByUser(user, t + 3)).sort(), [a.id, abs.id, b.id, idle.id].sort());
    assert.deepEqual(plain(await get().listSessionsByUser(user, t + 10_000)), [b, a]);
    assert.deepEqual(await get().listSessionsByUser(rid(), t), []);
  });

  it('deleteSession resolves the deleted record once, then null', async () => {
    const s = makeSession();
    await get().createSession(s, MANY);
    assert.deepEqual(plain(await get().deleteSession(s.id)), s);
    assert.equal(await get().getSession(s.id, s.createdAt), null);
    assert.equal(await get().deleteSession(s.id), null);
  });

  it('deleteUserSessions deletes every session of the user but exceptId, and resolves their ids', async () => {
    const user = rid('u_');
    const [a, b, c] = [0, 1, 2].map((i) => makeSession({ userId: user, mode: i === 1 ? 'token' : 'session' }));
    const other = makeSession();
    for (const s of [a!, b!, c!, other]) await get().createSession(s, MANY);
    const now = a!.createdAt;
    assert.deepEqual((await get().deleteUserSessions(user, b!.id)).sort(), [a!.id, c!.id].sort());
    assert.deepEqual(ids(await get().listSessionsByUser(user, now)), [b!.id]);
    assert.deepEqual(await get().deleteUserSessions(user), [b!.id]);
    assert.deepEqual(await get().listSessionsByUser(user, now), []);
    assert.ok(await get().getSession(other.id, now), "another user's session stays");
    assert.deepEqual(await get().deleteUserSessions(user), []);
  });

  it('deleteExpiredSessions removes only expired sessions (stores expiring by TTL may report 0)', async () => {
    const t = Date.now();
    const old = makeSession({ createdAt: t, idleExpiresAt: t + 1000 });
    const live = makeSession({ createdAt: t, idleExpiresAt: t + 100_000 });
    await get().createSession(old, MANY);
    await get().createSession(live, MANY);
    const n = await get().deleteExpiredSessions(t + 50_000);
    assert.ok(n === 0 || n === 1, `swept ${n}`);
    if (n === 1) assert.equal(await get().getSession(old.id, t), null, 'a swept session is gone');
    assert.equal(await get().getSession(old.id, t + 50_000), null);
    assert.ok(await get().getSession(live.id, t + 50_000));
  });

  it('deleteExpiredSessions removes a backlog larger than any sweep batch completely, by either deadline', async () => {
    // More than the batch of every SQL store (SQLite 256, MySQL 500, PostgreSQL 1000), so the sweep
    // must run several batches and stop only when nothing expired is left.
    const t = Date.now();
    const DAY = 86_400_000;
    const expired = Array.from({ length: 1201 }, (_, i) =>
      i % 2 === 0
        ? makeSession({ createdAt: t - 2 * DAY, idleExpiresAt: t - DAY + i, expiresAt: t + DAY })
        : makeSession({ createdAt: t - 2 * DAY, idleExpiresAt: t - DAY + i, expiresAt: t - DAY + i }),
    );
    const live = makeSession({ createdAt: t });
    for (let i = 0; i < expired.length; i += 100) await Promise.all(expired.slice(i, i + 100).map((s) => get().createSession(s, MANY)));
    await get().createSession(live, MANY);
    const n = await get().deleteExpiredSessions(t);
    assert.ok(n === 0 || n >= expired.length, `swept ${n} of ${expired.length}`);
    if (n > 0) {
      // Read as of their own creation, when they were live: only a deleted row reads as absent then.
      for (const s of expired.filter((_, i) => i % 40 === 0 || i === expired.length - 1)) {
        assert.equal(await get().getSession(s.id, s.createdAt), null, 'a swept session is gone');
      }
    }
    assert.ok(await get().getSession(live.id, t));
  });

  it('concurrent createSession calls of one user keep the per-user limit exact', async () => {
    const userId = rid('u_');
    const t = Date.now();
    const made = Array.from({ length: 12 }, (_, i) => makeSession({ userId, createdAt: t + i }));
    const evicted = (await Promise.all(made.map((s) => get().createSession(s, { maxPerUser: 3 })))).flat();
    const live = await get().listSessionsByUser(userId, t + 100);
    assert.equal(live.length, 3, 'exactly maxPerUser sessions survive');
    assert.equal(new Set(ids(evicted)).size, evicted.length, 'no session is evicted twice');
    assert.deepEqual([...ids(live), ...ids(evicted)].sort(), ids(made).sort(), 'every session is either live or evicted');
  });
}
