import type { AuditEvent, AuditEventType, AuditLog } from '../../ports.js';
import { clone } from './copy.js';

export function createMemoryAuditLog(): AuditLog {
  // Kept sorted by id (ids are time-ordered, so appends almost always land at the end).
  let events: AuditEvent[] = [];

  return {
    async appendEvent(event) {
      let i = events.length;
      while (i > 0 && events[i - 1]!.id > event.id) i--;
      events.splice(i, 0, clone(event));
    },
    async listEvents({ userId, since, before, types, ip, until, limit }) {
      const out: AuditEvent[] = [];
      for (let i = events.length - 1; i >= 0 && out.length < limit; i--) {
        const e = events[i]!;
        if (before !== undefined && e.id >= before) continue;
        if (userId !== undefined && e.userId !== userId) continue;
        if (since !== undefined && e.at < since) continue;
        if (until !== undefined && e.at >= until) continue;
        if (types !== undefined && !types.includes(e.type)) continue;
        if (ip !== undefined && e.ip !== ip) continue;
        out.push(clone(e));
      }
      return out;
    },
    async countEvents(since, types) {
      const out: Partial<Record<AuditEventType, number>> = {};
      for (const t of types) out[t] = 0;
      for (let i = events.length - 1; i >= 0; i--) {
        const e = events[i]!;
        if (e.at < since) continue;
        if (e.type in out) out[e.type] = out[e.type]! + 1;
      }
      return out;
    },
    async deleteEventsBefore(at) {
      const before = events.length;
      events = events.filter((e) => e.at >= at);
      return before - events.length;
    },
    async redactUserEvents(userId) {
      let n = 0;
      for (const e of events) {
        if (e.userId !== userId || (e.ip === null && e.userAgent === null)) continue;
        e.ip = null;
        e.userAgent = null;
        n++;
      }
      return n;
    },
  };
}
