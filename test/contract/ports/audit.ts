import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { AuditEvent, AuditLog } from '../../../src/ports.js';
import { makeEvent, rid } from '../fixtures.js';

const ids = (xs: AuditEvent[]) => xs.map((e) => e.id);

async function seed(log: AuditLog, n: number, over: Partial<AuditEvent> = {}, t0 = Date.now()): Promise<AuditEvent[]> {
  const out: AuditEvent[] = [];
  for (let i = 0; i < n; i++) {
    const e = makeEvent({ at: t0 + i * 1000, ...over });
    await log.appendEvent(e);
    out.push(e);
  }
  return out;
}

export function auditContract(get: () => AuditLog): void {
  it('events read back exactly, newest first', async () => {
    const e1 = makeEvent({ type: 'login.failed', userId: rid(), ip: '198.51.100.1', detail: { reason: 'password', n: 2, ok: false, x: null } });
    const e2 = makeEvent({ at: e1.at + 1, type: 'logout', sessionId: rid(), userAgent: 'curl/8' });
    await get().appendEvent(e1);
    await get().appendEvent(e2);
    assert.deepEqual(await get().listEvents({ limit: 10 }), [e2, e1]);
  });

  it('listEvents pages with the `before` cursor and honours limit', async () => {
    const evs = await seed(get(), 5);
    const page1 = await get().listEvents({ limit: 2 });
    assert.deepEqual(ids(page1), [evs[4]!.id, evs[3]!.id]);
    const page2 = await get().listEvents({ limit: 2, before: page1[1]!.id });
    assert.deepEqual(ids(page2), [evs[2]!.id, evs[1]!.id]);
    const page3 = await get().listEvents({ limit: 2, before: page2[1]!.id });
    assert.deepEqual(ids(page3), [evs[0]!.id]);
  });

  it('listEvents filters by userId and by since (at or after)', async () => {
    const t = Date.now();
    const user = rid('u_');
    const mine = await seed(get(), 3, { userId: user }, t);
    await seed(get(), 2, { userId: rid('u_') }, t);
    assert.deepEqual(ids(await get().listEvents({ userId: user, limit: 10 })), ids(mine).reverse());
    assert.deepEqual(ids(await get().listEvents({ since: t + 1000, userId: user, limit: 10 })), [mine[2]!.id, mine[1]!.id]);
    assert.equal((await get().listEvents({ since: t + 1000, limit: 10 })).length, 3);
    assert.deepEqual(ids(await get().listEvents({ userId: user, before: mine[2]!.id, limit: 1 })), [mine[1]!.id]);
  });

  it('deleteEventsBefore deletes events older than the time and counts them', async () => {
    const t = Date.now();
    const evs = await seed(get(), 4, {}, t);
    assert.equal(await get().deleteEventsBefore(t + 2000), 2);
    assert.deepEqual(ids(await get().listEvents({ limit: 10 })), [evs[3]!.id, evs[2]!.id]);
    assert.equal(await get().deleteEventsBefore(t + 2000), 0);
  });

  it('redactUserEvents clears the IP address and user agent of one user\'s events and keeps the events', async () => {
    const user = rid('u_');
    const mine = await seed(get(), 3, { userId: user, ip: '198.51.100.9', userAgent: 'Firefox/140' });
    const theirs = await seed(get(), 2, { userId: rid('u_'), ip: '198.51.100.10', userAgent: 'curl/8' });
    assert.equal(await get().redactUserEvents(user), 3);
    const after = await get().listEvents({ userId: user, limit: 10 });
    assert.deepEqual(after, mine.map((e) => ({ ...e, ip: null, userAgent: null })).reverse());
    const others = await get().listEvents({ userId: theirs[0]!.userId!, limit: 10 });
    assert.deepEqual(others, [...theirs].reverse(), 'other users keep theirs');
    assert.equal(await get().redactUserEvents(user), 0, 'nothing left to clear');
  });
}
