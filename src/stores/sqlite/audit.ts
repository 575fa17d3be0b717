import type Database from 'better-sqlite3';
import type { AuditEvent, AuditEventType, AuditLog, AuditQuery } from '../../ports.js';
import { batchedDelete } from './sweep.js';

interface AuditRow {
  id: string;
  at: number;
  type: AuditEventType;
  user_id: string | null;
  session_id: string | null;
  ip: string | null;
  user_agent: string | null;
  detail: string | null;
}

const toEvent = (r: AuditRow): AuditEvent => ({
  id: r.id,
  at: r.at,
  type: r.type,
  userId: r.user_id,
  sessionId: r.session_id,
  ip: r.ip,
  userAgent: r.user_agent,
  detail: r.detail === null ? null : (JSON.parse(r.detail) as AuditEvent['detail']),
});

export function createSqliteAuditLog(db: Database.Database): AuditLog {
  const insert = db.prepare(
    'INSERT INTO audit_events (id, at, type, user_id, session_id, ip, user_agent, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const prune = batchedDelete(db, 'audit_events', 'at', true);
  const redact = db.prepare('UPDATE audit_events SET ip = NULL, user_agent = NULL WHERE user_id = ? AND (ip IS NOT NULL OR user_agent IS NOT NULL)');
  const count = db.prepare<[number, string], { type: AuditEventType; n: number }>(
    'SELECT type, COUNT(*) AS n FROM audit_events WHERE at >= ? AND type IN (SELECT value FROM json_each(?)) GROUP BY type',
  );
  // One prepared statement per combination of filters , built on first use.
  const queries = new Map<string, Database.Statement<Record<string, unknown>, AuditRow>>();

  function query(q: AuditQuery): Database.Statement<Record<string, unknown>, AuditRow> {
    const where: string[] = [];
    if (q.userId !== undefined) where.push('user_id = @userId');
    if (q.since !== undefined) where.push('at >= @since');
    if (q.before !== undefined) where.push('id < @before');
    if (q.until !== undefined) where.push('at < @until');
    if (q.ip !== undefined) where.push('ip = @ip');
    // The types go in as one JSON array, so the statement does not depend on how many there are.
    if (q.types !== undefined) where.push('type IN (SELECT value FROM json_each(@types))');
    const key = where.join(' AND ');
    let stmt = queries.get(key);
    if (!stmt) {
      stmt = db.prepare(`SELECT * FROM audit_events ${key ? `WHERE ${key}` : ''} ORDER BY id DESC LIMIT @limit`);
      queries.set(key, stmt);
    }
    return stmt;
  }

  return {
    async appendEvent(e) {
      insert.run(e.id, e.at, e.type, e.userId, e.sessionId, e.ip, e.userAgent, e.detail === null ? null : JSON.stringify(e.detail));
    },
    async listEvents(q) {
      const params: Record<string, unknown> = { limit: q.limit };
      if (q.userId !== undefined) params.userId = q.userId;
      if (q.since !== undefined) params.since = q.since;
      if (q.before !== undefined) params.before = q.before;
      if (q.until !== undefined) params.until = q.until;
      if (q.ip !== undefined) params.ip = q.ip;
      if (q.types !== undefined) params.types = JSON.stringify(q.types);
      return query(q).all(params).map(toEvent);
    },
    async countEvents(since, types) {
      const out: Partial<Record<AuditEventType, number>> = {};
      for (const t of types) out[t] = 0;
      for (const r of count.all(since, JSON.stringify(types))) out[r.type] = r.n;
      return out;
    },
    async deleteEventsBefore(at) {
      return prune(at);
    },
    async redactUserEvents(userId) {
      return redact.run(userId).changes;
    },
  };
}
