import type { AuditEvent, AuditEventType, AuditLog } from '../../ports.js';
import type { Db, Row } from './db.js';
import { deleteInBatches } from './sweep.js';
import { limit } from './users.js';

const COLS = 'id, at, type, user_id, session_id, ip, user_agent, detail';

function toEvent(r: Row): AuditEvent {
  return {
    id: r.id as string,
    at: r.at as number,
    type: r.type as AuditEvent['type'],
    userId: (r.user_id as string | null) ?? null,
    sessionId: (r.session_id as string | null) ?? null,
    ip: (r.ip as string | null) ?? null,
    userAgent: (r.user_agent as string | null) ?? null,
    detail: r.detail === null || r.detail === undefined ? null : (JSON.parse(r.detail as string) as AuditEvent['detail']),
  };
}

export function createMysqlAuditLog(db: Db): AuditLog {
  return {
    async appendEvent(e) {
      await db.exec(`INSERT INTO audit_events (${COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, [
        e.id, e.at, e.type, e.userId, e.sessionId, e.ip, e.userAgent, e.detail === null ? null : JSON.stringify(e.detail),
      ]);
    },
    async listEvents({ userId, since, before, types, ip, until, limit: n }) {
      // One prepared statement per combination of filters .
      const where: string[] = [];
      const params: unknown[] = [];
      const filter = (cond: string, value: unknown) => {
        where.push(cond);
        params.push(value);
      };
      if (userId !== undefined) filter('user_id = ?', userId);
      if (since !== undefined) filter('at >= ?', since);
      if (before !== undefined) filter('id < ?', before);
      if (until !== undefined) filter('at < ?', until);
      if (ip !== undefined) filter('ip = ?', ip);
      if (types !== undefined) {
        if (types.length === 0) return [];
        where.push(`type IN (${types.map(() => '?').join(', ')})`);
        params.push(...types);
      }
      const sql = `SELECT ${COLS} FROM audit_events ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id DESC LIMIT ${limit(n)}`;
      return (await db.exec(sql, params)).rows.map(toEvent);
    },
    async countEvents(since, types) {
      const out: Partial<Record<AuditEventType, number>> = {};
      for (const t of types) out[t] = 0;
      if (types.length === 0) return out;
      const r = await db.exec(`SELECT type, COUNT(*) AS n FROM audit_events WHERE at >= ? AND type IN (${types.map(() => '?').join(', ')}) GROUP BY type`, [since, ...types]);
      for (const row of r.rows) out[row.type as AuditEventType] = Number(row.n);
      return out;
    },
    async deleteEventsBefore(at) {
      return deleteInBatches(db, 'audit_events', 'at', at, true);
    },
    async redactUserEvents(userId) {
      const r = await db.exec(
        `UPDATE audit_events SET ip = NULL, user_agent = NULL WHERE user_id = ? AND (ip IS NOT NULL OR user_agent IS NOT NULL)`,
        [userId],
      );
      return r.affected;
    },
  };
}
