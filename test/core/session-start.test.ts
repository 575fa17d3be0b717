/**
 * The one session start, without HTTP: the core built on memory stores, with a moved clock and store
 * wrappers that make the interleavings of a sign-in and a credential change happen deterministically.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { resolveConfig } from '../../src/config.js';
import { AuthCore } from '../../src/core/auth.js';
import { systemRandom } from '../../src/core/crypto.js';
import { assuranceOf, mergeMethods } from '../../src/core/methods/proof.js';
import type { Stores } from '../../src/ports.js';
import { createMemoryStores } from '../../src/stores/memory/index.js';
import { TestClock } from '../support/clock.js';
import { CHEAP_HASHING, GOOD_PASSWORD } from '../support/server.js';

const META = { ip: '203.0.113.9', userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0' };

async function coreOn(stores: Stores, config: Record<string, unknown> = {}) {
  const clock = new TestClock();
  const core = new AuthCore({ config: resolveConfig({ databaseUrl: 'memory:', passwordHashing: CHEAP_HASHING, ...config }), stores, clock, random: systemRandom });
  await core.start();
  const email = `start${Math.random().toString(36).slice(2)}@example.com`;
  const user = await core.admin.createUser(email, GOOD_PASSWORD, META);
  assert.ok(user);
  return { core, clock, email, userId: user.id };
}

/** Runs `between` once, right after the next session insert and before the start re-checks the user. */
function afterNextInsert(stores: Stores, between: () => Promise<void>): void {
  const create = stores.sessions.createSession.bind(stores.sessions);
  let armed = true;
  stores.sessions.createSession = async (s, o) => {
    const evicted = await create(s, o);
    if (armed) {
      armed = false;
      await between();
    }
    return evicted;
  };
}

describe('the one session start', () => {
  test('records how the user signed in: amr, acr, auth time and the credential version', async () => {
    const stores = createMemoryStores();
    const { core, clock, email, userId } = await coreOn(stores);
    const r = await core.signIn.password(email, GOOD_PASSWORD, 'session', META);
    assert.ok(r.ok && r.mode === 'session');
    const [s] = await stores.sessions.listSessionsByUser(userId, clock.now());
    assert.deepEqual([s?.amr, s?.acr, s?.authAt, s?.credentialVersion, s?.device.browser], [['pwd'], 'aal1', clock.now(), 0, 'Firefox']);
    const events = await stores.audit.listEvents({ userId, limit: 10 });
    assert.deepEqual(events.find((e) => e.type === 'login.succeeded')?.detail, { mode: 'session', amr: 'pwd' });
    await core.stop();
  });

  test('a password change landing between the insert and the re-check ends the new session before anything is handed out', async () => {
    const stores = createMemoryStores();
    const { core, clock, email, userId } = await coreOn(stores);
    let started = '';
    afterNextInsert(stores, async () => {
      started = (await stores.sessions.listSessionsByUser(userId, clock.now()))[0]!.id;
      await stores.users.setPasswordHash(userId, '$argon2id$changed-elsewhere');
    });
    const r = await core.signIn.password(email, GOOD_PASSWORD, 'token', META);
    assert.deepEqual(r, { ok: false, reason: 'credentials_changed' });
    assert.deepEqual(await stores.sessions.listSessionsByUser(userId, clock.now()), [], 'no session is left');
    assert.ok(core.published.revocations().ids.includes(started), 'and it is on the revocation list');
    const failed = (await stores.audit.listEvents({ userId, limit: 10 })).find((e) => e.type === 'login.failed');
    assert.equal(failed?.detail?.reason, 'credentials_changed');
    await core.stop();
  });

  test('a disable or a deletion landing between the insert and the re-check does the same', async () => {
    for (const change of ['disable', 'delete'] as const) {
      const stores = createMemoryStores();
      const { core, clock, email, userId } = await coreOn(stores);
      afterNextInsert(stores, async () => {
        if (change === 'disable') await stores.users.setDisabled(userId, clock.now());
        else await stores.users.deleteUser(userId);
      });
      const r = await core.signIn.password(email, GOOD_PASSWORD, 'session', META);
      assert.deepEqual(r, { ok: false, reason: 'credentials_changed' }, change);
      assert.deepEqual(await stores.sessions.listSessionsByUser(userId, clock.now()), [], change);
      await core.stop();
    }
  });

  test('evictions name the policy that caused them, for every way in', async () => {
    for (const [config, policy] of [[{ session: { single: true } }, 'single'], [{ session: { maxPerUser: 1 } }, 'max_sessions']] as const) {
      const stores = createMemoryStores();
      const { core, email, userId } = await coreOn(stores, config);
      await core.signIn.password(email, GOOD_PASSWORD, 'session', META);
      await core.signIn.password(email, GOOD_PASSWORD, 'session', META);
      const evicted = (await stores.audit.listEvents({ userId, limit: 10 })).find((e) => e.type === 'session.evicted');
      assert.equal(evicted?.detail?.policy, policy);
      await core.stop();
    }
  });
});

describe('authentication methods', () => {
  test('the level: two factors or a verified passkey is aal2, anything else aal1', () => {
    assert.equal(assuranceOf(['pwd']), 'aal1');
    assert.equal(assuranceOf(['pwd', 'otp', 'mfa']), 'aal2');
    assert.equal(assuranceOf(['hwk', 'user']), 'aal2');
    assert.equal(assuranceOf(['swk']), 'aal1', 'a passkey without user verification is one factor');
    assert.equal(assuranceOf(['migrated']), 'aal1');
  });

  test('a step-up merges methods and adds mfa once a knowledge and a possession factor are both in', () => {
    assert.deepEqual(mergeMethods(['pwd'], ['pwd']), ['pwd']);
    assert.deepEqual(mergeMethods(['pwd'], ['otp']), ['pwd', 'otp', 'mfa']);
    assert.deepEqual(mergeMethods(['hwk', 'user'], ['pwd']), ['hwk', 'user', 'pwd', 'mfa']);
    assert.deepEqual(mergeMethods(['pwd', 'otp', 'mfa'], ['pwd']), ['pwd', 'otp', 'mfa']);
  });

  test('a re-authentication moves auth_time and never lowers the level', async () => {
    const stores = createMemoryStores();
    const { core, clock, email, userId } = await coreOn(stores);
    const r = await core.signIn.password(email, GOOD_PASSWORD, 'session', META);
    assert.ok(r.ok);
    await stores.sessions.setSessionAuth(r.session.id, { authAt: r.session.authAt, amr: ['pwd', 'otp', 'mfa'], acr: 'aal2', credentialVersion: 0 });
    clock.advance(60_000);
    const ctx = { user: r.user, sessionId: r.session.id, mode: 'session' as const, session: r.session, claims: null, binding: null };
    assert.equal(await core.account.reauth(ctx, { password: GOOD_PASSWORD }, META), 'ok');
    const [s] = await stores.sessions.listSessionsByUser(userId, clock.now());
    assert.deepEqual([s?.authAt, s?.acr, s?.amr], [clock.now(), 'aal2', ['pwd', 'otp', 'mfa']]);
    await core.stop();
  });
});
