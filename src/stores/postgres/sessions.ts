import type { SessionBinding, SessionData, SessionMode, SessionRecord, SessionStore } from '../../ports.js';
import * as row from '../sql/session-row.js';
import type { Db } from './db.js';
import { deleteInBatches } from './sweep.js';

/** A sessions row as pg returns it (int8 as numbers, text[] as string[], bytea as Buffer). */
type SessionRow = row.SessionRow<string[]>;

const bytes = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength);
const COLS = row.SESSION_COLUMNS;
const { bindingParams } = row;
const codec: row.SessionCodec<string[]> = { amrOut: (amr) => [...amr], amrIn: (amr) => amr, bytesOut: (b) => bytes(b), bytesIn: (b) => b };

export const toSession = (r: SessionRow): SessionRecord => row.toSession(r, codec);


/** Live at `now`: neither the idle nor the absolute expiry has been reached. */
const LIVE = `idle_expires_at > $2 AND expires_at > $2`;

export function createPostgresSessionStore(db: Db): SessionStore {
  return {
    async countLiveSessions(now) {
      // The expiry index (LEAST of the two deadlines) serves the range; the count is one pass over live rows.
      const r = await db.query<{ mode: string; n: string }>(`SELECT mode, COUNT(*) AS n FROM sessions WHERE LEAST(idle_expires_at, expires_at) > $1 GROUP BY mode`, [now]);
      const out = { session: 0, token: 0 };
      for (const row of r.rows) if (row.mode === 'session' || row.mode === 'token') out[row.mode] = Number(row.n);
      return out;
    },
    async createSession(s, { maxPerUser }) {
      return db.tx(async (q) => {
        // Serialise session creation per user: concurrent logins of one user queue here, so the
        // limit is applied to a consistent set of rows.
        await q.query(`SELECT 1 FROM users WHERE id = $1 FOR UPDATE`, [s.userId]);
        await q.query(
          `INSERT INTO sessions (${COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)`,
          row.sessionParams(s, codec),
        );
        const r = await q.query<SessionRow>(
          `DELETE FROM sessions WHERE id IN (
             SELECT id FROM sessions
              WHERE user_id = $1 AND mode = $3 AND id <> $4 AND ${LIVE}
              ORDER BY created_at DESC, id DESC
              OFFSET GREATEST($5::int - 1, 0)
              FOR UPDATE)
           RETURNING ${COLS}`,
          [s.userId, s.createdAt, s.mode, s.id, maxPerUser],
        );
        return r.rows.map(toSession).sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
      });
    },
    async getSession(id, now) {
      const r = await db.query<SessionRow>(`SELECT ${COLS} FROM sessions WHERE id = $1 AND ${LIVE}`, [id, now]);
      return r.rows[0] ? toSession(r.rows[0]) : null;
    },
    async touchSession(id, lastSeenAt, idleExpiresAt) {
      const r = await db.query(
        `UPDATE sessions
            SET last_seen_at = GREATEST(last_seen_at, $2),
                idle_expires_at = LEAST(GREATEST(idle_expires_at, $3), expires_at)
          WHERE id = $1`,
        [id, lastSeenAt, idleExpiresAt],
      );
      return r.rowCount === 1;
    },
    async setSessionAuth(id, auth) {
      const r = await db.query(
        `UPDATE sessions SET auth_at = $2, amr = $3, acr = $4, credential_version = $5 WHERE id = $1`,
        [id, auth.authAt, auth.amr, auth.acr, auth.credentialVersion],
      );
      return r.rowCount === 1;
    },
    async bindSession(id, binding) {
      // The conditional UPDATE decides (concurrent binds serialise on the row); the read only tells a
      // bound session from a missing one.
      const r = await db.query(`UPDATE sessions SET binding_kind = $2, binding_jkt = $3, binding_key = $4 WHERE id = $1 AND binding_kind IS NULL`, [id, ...bindingParams(binding)]);
      if (r.rowCount === 1) return 'ok';
      return (await db.query(`SELECT 1 FROM sessions WHERE id = $1`, [id])).rows.length === 1 ? 'bound' : 'missing';
    },
    async listSessionsByUser(userId, now) {
      const r = await db.query<SessionRow>(
        `SELECT ${COLS} FROM sessions WHERE user_id = $1 AND ${LIVE} ORDER BY created_at, id`,
        [userId, now],
      );
      return r.rows.map(toSession);
    },
    async deleteSession(id) {
      const r = await db.query<SessionRow>(`DELETE FROM sessions WHERE id = $1 RETURNING ${COLS}`, [id]);
      return r.rows[0] ? toSession(r.rows[0]) : null;
    },
    async deleteUserSessions(userId, exceptId) {
      return db.tx(async (q) => {
        // The user's row first, as createSession takes it: a sign-in evicting sessions and this delete
        // then queue on one lock instead of locking the same session rows in different orders (a deadlock).
        await q.query(`SELECT 1 FROM users WHERE id = $1 FOR UPDATE`, [userId]);
        const r = await q.query<{ id: string }>(
          `DELETE FROM sessions WHERE user_id = $1 AND ($2::text IS NULL OR id <> $2) RETURNING id`,
          [userId, exceptId ?? null],
        );
        return r.rows.map((x) => x.id);
      });
    },
    async deleteExpiredSessions(now) {
      return deleteInBatches(db, 'sessions', now);
    },
    async getSessionData(id) {
      const r = await db.query<{ data: SessionData }>(`SELECT data FROM sessions WHERE id = $1`, [id]);
      return r.rows[0] ? r.rows[0].data : null;
    },
    async patchSessionData(id, patch, maxBytes) {
      return db.tx(async (q) => {
        // Row lock, merge, measure, write: the size is the UTF-8 length of the JSON text the
        // application would see, which jsonb's own text form does not reproduce.
        const r = await q.query<{ data: SessionData }>(`SELECT data FROM sessions WHERE id = $1 FOR UPDATE`, [id]);
        if (!r.rows[0]) return 'missing';
        const data: SessionData = { ...r.rows[0].data, ...patch.set };
        for (const k of patch.unset) delete data[k];
        const text = JSON.stringify(data);
        if (Buffer.byteLength(text, 'utf8') > maxBytes) return 'too_large';
        await q.query(`UPDATE sessions SET data = $2::jsonb WHERE id = $1`, [id, text]);
        return 'ok';
      });
    },
  };
}
