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
  // One prepared statement per combination of filters (at most eight), built on first use.
  const queries = new Map<string, Database.Statement<Record<string, unknown>, AuditRow>>();

  function query(q: AuditQuery): Database.Statement<Record<string, unknown>, AuditRow> {
    const where: string[] = [];
    if (q.userId !== undefined) where.push('user_id = @userId');
    if (q.since !== undefined) where.push('at >= @since');
    if (q.before !== undefined) where.push('id < @before');
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
      return query(q).all(params).map(toEvent);
    },
    async deleteEventsBefore(at) {
      return prune(at);
    },
    async redactUserEvents(userId) {
      return redact.run(userId).changes;
    },
  };
}
