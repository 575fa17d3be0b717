import type { AuditEvent, AuditEventType, AuditLog } from '../../ports.js';
import type { Db } from './db.js';
import { deleteInBatches } from './sweep.js';

/** An audit_events row as pg returns it (jsonb parsed). */
type EventRow = {
  id: string;
  at: number;
  type: AuditEvent['type'];
  user_id: string | null;
  session_id: string | null;
  ip: string | null;
  user_agent: string | null;
  detail: AuditEvent['detail'];
};

const COLS = 'id, at, type, user_id, session_id, ip, user_agent, detail';

function toEvent(r: EventRow): AuditEvent {
  return { id: r.id, at: r.at, type: r.type, userId: r.user_id, sessionId: r.session_id, ip: r.ip, userAgent: r.user_agent, detail: r.detail };
}

export function createPostgresAuditLog(db: Db): AuditLog {
  return {
    async appendEvent(e) {
      await db.query(`INSERT INTO audit_events (${COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb)`, [
        e.id, e.at, e.type, e.userId, e.sessionId, e.ip, e.userAgent, e.detail === null ? null : JSON.stringify(e.detail),
      ]);
    },
    async listEvents({ userId, since, before, types, ip, until, limit }) {
      const where: string[] = [];
      const params: unknown[] = [];
      if (userId !== undefined) where.push(`user_id = $${params.push(userId)}`);
      if (since !== undefined) where.push(`at >= $${params.push(since)}`);
      if (before !== undefined) where.push(`id < $${params.push(before)}`);
      if (until !== undefined) where.push(`at < $${params.push(until)}`);
      if (ip !== undefined) where.push(`ip = $${params.push(ip)}`);
      if (types !== undefined) where.push(`type = ANY($${params.push(types)}::text[])`);
      const sql = `SELECT ${COLS} FROM audit_events ${where.length ? 'WHERE ' + where.join(' AND ') : ''}
                   ORDER BY id DESC LIMIT $${params.push(limit)}`;
      return (await db.query<EventRow>(sql, params)).rows.map(toEvent);
    },
    async countEvents(since, types) {
      const out: Partial<Record<AuditEventType, number>> = {};
      for (const t of types) out[t] = 0;
      const r = await db.query<{ type: AuditEventType; n: string }>(
        `SELECT type, COUNT(*) AS n FROM audit_events WHERE at >= $1 AND type = ANY($2::text[]) GROUP BY type`,
        [since, types],
      );
      for (const row of r.rows) out[row.type] = Number(row.n);
      return out;
    },
    async deleteEventsBefore(at) {
      return deleteInBatches(db, 'audit_events', at, true);
    },
    async redactUserEvents(userId) {
      const r = await db.query(`UPDATE audit_events SET ip = NULL, user_agent = NULL WHERE user_id = $1 AND (ip IS NOT NULL OR user_agent IS NOT NULL)`, [userId]);
      return r.rowCount;
    },
  };
}
