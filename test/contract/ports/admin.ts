/**
 * What the admin API needs from the stores: the administrator role, user search with a keyset cursor,
 * audit search by type, address and time range, counts of recent events, and live sessions per mode.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { AuditEvent, AuditLog, SessionStore, UserRecord, UserSearchQuery, UserStore } from '../../../src/ports.js';
import { makeEvent, makeSession, makeUser, rid } from '../fixtures.js';

const ids = (xs: Array<{ id: string }>) => xs.map((x) => x.id);

/** Every page of a search, following the cursor the way the admin API does. */
async function allPages(store: UserStore, q: Omit<UserSearchQuery, 'limit' | 'after'>, limit: number): Promise<UserRecord[]> {
  const out: UserRecord[] = [];
  let after: UserSearchQuery['after'];
  for (let i = 0; i < 1000; i++) {
    const page = await store.searchUsers({ ...q, limit, ...(after ? { after } : {}) });
    out.push(...page);
    if (page.length < limit) return out;
    const last = page[page.length - 1]!;
    after = { createdAt: last.createdAt, id: last.id };
  }
  throw new Error('the search did not end');
}

export function adminUsersContract(get: () => UserStore): void {
  it('a new user is no administrator; setAdmin grants and revokes the role and reports a missing user', async () => {
    const u = makeUser();
    await get().createUser(u);
    assert.equal((await get().getUserById(u.id))?.admin, false);
    assert.equal(await get().setAdmin(u.id, true), true);
    assert.equal((await get().getUserById(u.id))?.admin, true);
    assert.equal(await get().setAdmin(u.id, true), true, 'granting again is still a success');
    assert.deepEqual(await get().getUserById(u.id), { ...u, admin: true }, 'nothing else changes, the credential version included');
    assert.equal(await get().setAdmin(u.id, false), true);
    assert.equal((await get().getUserByEmail(u.emailCanonical))?.admin, false);
    assert.equal(await get().setAdmin(rid(), true), false);
    const born = makeUser({ admin: true });
    await get().createUser(born);
    assert.equal((await get().getUserById(born.id))?.admin, true, 'createUser keeps the role it is given');
  });

  it('searchUsers pages by createdAt then id: every user exactly once, whatever the page size', async () => {
    const t = Date.now();
    const users: UserRecord[] = [];
    // Ties on createdAt across page boundaries are the case a cursor of time alone would get wrong.
    for (let i = 0; i < 23; i++) users.push(makeUser({ createdAt: t + Math.floor(i / 4) }));
    for (const u of [...users].reverse()) await get().createUser(u);
    const expected = [...users].sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1)).map((u) => u.id);
    for (const size of [1, 3, 4, 7, 23, 50]) assert.deepEqual(ids(await allPages(get(), {}, size)), expected, `page size ${size}`);
    assert.deepEqual((await get().searchUsers({ limit: 1 }))[0], users.find((u) => u.id === expected[0]), 'records read back exactly');
  });

  it('a cursor whose user was deleted meanwhile continues after its position', async () => {
    const t = Date.now();
    const [a, b, c] = [makeUser({ createdAt: t }), makeUser({ createdAt: t + 1 }), makeUser({ createdAt: t + 2 })];
    for (const u of [a, b, c]) await get().createUser(u);
    await get().deleteUser(b.id);
    assert.deepEqual(ids(await get().searchUsers({ limit: 10, after: { createdAt: b.createdAt, id: b.id } })), [c.id]);
  });

  it('searchUsers filters by canonical email prefix literally (no wildcards), status and created range', async () => {
    const t = Date.now();
    const ada = makeUser({ emailCanonical: 'ada@example.test', createdAt: t, emailVerifiedAt: t });
    const adam = makeUser({ emailCanonical: 'adam@example.test', createdAt: t + 10, emailVerifiedAt: null });
    const off = makeUser({ emailCanonical: 'ad_off@example.test', createdAt: t + 20, emailVerifiedAt: t, disabledAt: t + 30 });
    const pct = makeUser({ emailCanonical: 'a%b@example.test', createdAt: t + 40, emailVerifiedAt: t });
    const bob = makeUser({ emailCanonical: 'bob@example.test', createdAt: t + 50, emailVerifiedAt: null, disabledAt: t + 60 });
    for (const u of [ada, adam, off, pct, bob]) await get().createUser(u);
    const find = async (q: Omit<UserSearchQuery, 'limit'>) => ids(await get().searchUsers({ limit: 100, ...q }));
    assert.deepEqual(await find({ emailPrefix: 'ad' }), [ada.id, adam.id, off.id]);
    assert.deepEqual(await find({ emailPrefix: 'ada' }), [ada.id, adam.id]);
    assert.deepEqual(await find({ emailPrefix: 'ad_' }), [off.id], '_ is a character, not a wildcard');
    assert.deepEqual(await find({ emailPrefix: 'a%' }), [pct.id], '% is a character, not a wildcard');
    assert.deepEqual(await find({ emailPrefix: 'a!' }), []);
    assert.deepEqual(await find({ emailPrefix: 'zzz' }), []);
    assert.deepEqual(await find({ status: 'active' }), [ada.id, pct.id], 'active: enabled and verified');
    assert.deepEqual(await find({ status: 'unverified' }), [adam.id], 'unverified: enabled, not verified');
    assert.deepEqual(await find({ status: 'disabled' }), [off.id, bob.id], 'disabled, verified or not');
    assert.deepEqual(await find({ createdFrom: t + 10, createdTo: t + 40 }), [adam.id, off.id], 'from inclusive, to exclusive');
    assert.deepEqual(await find({ emailPrefix: 'ad', status: 'active', createdFrom: t }), [ada.id]);
  });
}

async function seed(log: AuditLog, events: Array<Partial<AuditEvent>>): Promise<AuditEvent[]> {
  const out: AuditEvent[] = [];
  for (const over of events) {
    const e = makeEvent(over);
    await log.appendEvent(e);
    out.push(e);
  }
  return out;
}

export function auditSearchContract(get: () => AuditLog): void {
  it('listEvents filters by types, client address and a time range, newest first, with the cursor', async () => {
    const t = Date.now();
    const u = rid('u_');
    const evs = await seed(get(), [
      { at: t, type: 'login.failed', ip: '198.51.100.1', userId: u },
      { at: t + 1000, type: 'login.succeeded', ip: '198.51.100.1', userId: u },
      { at: t + 2000, type: 'login.failed', ip: '2001:db8::1', userId: rid('u_') },
      { at: t + 3000, type: 'user.disabled', ip: null, userId: u, detail: { actor: 'admin-1' } },
      { at: t + 4000, type: 'login.failed', ip: '198.51.100.1', userId: null },
    ]);
    const find = async (q: Omit<Parameters<AuditLog['listEvents']>[0], 'limit'>, limit = 10) => ids(await get().listEvents({ limit, ...q }));
    assert.deepEqual(await find({ types: ['login.failed'] }), [evs[4]!.id, evs[2]!.id, evs[0]!.id]);
    assert.deepEqual(await find({ types: ['login.failed', 'user.disabled'] }), [evs[4]!.id, evs[3]!.id, evs[2]!.id, evs[0]!.id]);
    assert.deepEqual(await find({ types: [] }), [], 'an empty type list matches nothing');
    assert.deepEqual(await find({ ip: '198.51.100.1' }), [evs[4]!.id, evs[1]!.id, evs[0]!.id]);
    assert.deepEqual(await find({ ip: '2001:db8::1' }), [evs[2]!.id]);
    assert.deepEqual(await find({ since: t + 1000, until: t + 3000 }), [evs[2]!.id, evs[1]!.id], 'since inclusive, until exclusive');
    assert.deepEqual(await find({ userId: u, types: ['login.failed', 'login.succeeded'], ip: '198.51.100.1' }), [evs[1]!.id, evs[0]!.id]);
    assert.deepEqual(await find({ types: ['login.failed'], before: evs[4]!.id }, 1), [evs[2]!.id]);
    assert.deepEqual((await get().listEvents({ types: ['user.disabled'], limit: 1 }))[0], evs[3], 'events read back exactly');
  });

  it('countEvents counts events of each type at or after a time, naming every type asked for', async () => {
    const t = Date.now();
    await seed(get(), [
      { at: t - 1000, type: 'login.failed' },
      { at: t, type: 'login.failed' },
      { at: t + 1, type: 'login.failed' },
      { at: t + 2, type: 'login.succeeded' },
      { at: t + 3, type: 'logout' },
    ]);
    assert.deepEqual(await get().countEvents(t, ['login.failed', 'login.succeeded', 'mfa.required']), { 'login.failed': 2, 'login.succeeded': 1, 'mfa.required': 0 });
    assert.deepEqual(await get().countEvents(t - 1000, ['login.failed']), { 'login.failed': 3 });
    assert.deepEqual(await get().countEvents(t, []), {});
  });
}

export function sessionCountContract(get: () => SessionStore): void {
  it('countLiveSessions counts live sessions per mode over every user, expired ones excluded', async () => {
    const t = Date.now();
    assert.deepEqual(await get().countLiveSessions(t), { session: 0, token: 0 });
    const a = rid('u_');
    const b = rid('u_');
    const many = { maxPerUser: 100 };
    await get().createSession(makeSession({ userId: a, createdAt: t }), many);
    await get().createSession(makeSession({ userId: a, createdAt: t, mode: 'token' }), many);
    await get().createSession(makeSession({ userId: b, createdAt: t }), many);
    await get().createSession(makeSession({ userId: b, createdAt: t, idleExpiresAt: t + 60_000, expiresAt: t + 120_000 }), many);
    assert.deepEqual(await get().countLiveSessions(t + 1000), { session: 3, token: 1 });
    assert.deepEqual(await get().countLiveSessions(t + 60_000), { session: 2, token: 1 }, 'reaching the idle deadline is expiry');
    await get().deleteUserSessions(a);
    assert.deepEqual(await get().countLiveSessions(t + 1000), { session: 2, token: 0 });
  });
}
