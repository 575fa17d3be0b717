import type { SessionBinding, SessionData, SessionMode, SessionRecord, SessionStore } from '../../ports.js';
import * as row from '../sql/session-row.js';
import type { Db, Queryable } from './db.js';
import { deleteInBatches } from './sweep.js';

type SessionRow = row.SessionRow<string>;

const bytes = (u: Uint8Array) => Buffer.from(u);
const COLS = row.SESSION_COLUMNS;
const { amrText, bindingParams } = row;
/** amr as space-separated text, as on SQLite; mysql2 hands BINARY columns back as Buffers. */
const codec: row.SessionCodec<string> = { amrOut: row.amrText, amrIn: row.amrList, bytesOut: (b) => bytes(b), bytesIn: (b) => new Uint8Array(b) };

const toSession = (r: SessionRow): SessionRecord => row.toSession(r, codec);


const byAge = (a: SessionRecord, b: SessionRecord) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * Deletes sessions by id in statements of a fixed shape (IN lists of ID_CHUNK, padded by repeating an
 * id): every distinct statement text is a server-side prepared statement on every connection, and the
 * server's budget for them (max_prepared_stmt_count) is shared by everyone on it.
 */
const ID_CHUNK = 16;
const DELETE_IDS = `DELETE FROM sessions WHERE id IN (${Array.from({ length: ID_CHUNK }, () => '?').join(', ')})`;
async function deleteIds(q: Queryable, ids: readonly string[]): Promise<void> {
  for (let i = 0; i < ids.length; i += ID_CHUNK) {
    const chunk = ids.slice(i, i + ID_CHUNK);
    while (chunk.length < ID_CHUNK) chunk.push(chunk[0]!);
    await q.exec(DELETE_IDS, chunk);
  }
}

/** Live at `now`: neither the idle nor the absolute deadline has been reached (`expiry` is the earlier one). */
const LIVE = 'expiry > ?';

export function createMysqlSessionStore(db: Db): SessionStore {
  return {
    async countLiveSessions(now) {
      const r = await db.exec<{ mode: string; n: number | string }>(`SELECT mode, COUNT(*) AS n FROM sessions WHERE ${LIVE} GROUP BY mode`, [now]);
      const out = { session: 0, token: 0 };
      for (const row of r.rows) if (row.mode === 'session' || row.mode === 'token') out[row.mode] = Number(row.n);
      return out;
    },
    async createSession(s, { maxPerUser }) {
      return db.tx(async (q) => {
        // Serialise session creation per user: concurrent logins of one user queue on the user's row,
        // so the limit is applied to a consistent set of sessions.
        await q.exec(`SELECT id FROM users WHERE id = ? FOR UPDATE`, [s.userId]);
        await q.exec(`INSERT INTO sessions (${COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, row.sessionParams(s, codec));
        // Locking read: a rival deleted meanwhile (logout on another instance) is not counted or reported.
        const rivals = await q.exec<SessionRow>(
          `SELECT ${COLS} FROM sessions
            WHERE user_id = ? AND mode = ? AND id <> ? AND ${LIVE}
            ORDER BY created_at DESC, id DESC
            FOR UPDATE`,
          [s.userId, s.mode, s.id, s.createdAt],
        );
        const evicted = rivals.rows.slice(Math.max(maxPerUser - 1, 0)).map(toSession);
        await deleteIds(q, evicted.map((e) => e.id));
        return evicted.sort(byAge);
      });
    },
    async getSession(id, now) {
      const r = await db.exec<SessionRow>(`SELECT ${COLS} FROM sessions WHERE id = ? AND ${LIVE}`, [id, now]);
      return r.rows[0] ? toSession(r.rows[0]) : null;
    },
    async touchSession(id, lastSeenAt, idleExpiresAt) {
      // MySQL assigns left to right and later assignments see earlier ones: neither reads the other here.
      const r = await db.exec(
        `UPDATE sessions
            SET last_seen_at = GREATEST(last_seen_at, ?),
                idle_expires_at = LEAST(GREATEST(idle_expires_at, ?), expires_at)
          WHERE id = ?`,
        [lastSeenAt, idleExpiresAt, id],
      );
      return r.affected === 1;
    },
    async setSessionAuth(id, auth) {
      const r = await db.exec(`UPDATE sessions SET auth_at = ?, amr = ?, acr = ?, credential_version = ? WHERE id = ?`, [
        auth.authAt, amrText(auth.amr), auth.acr, auth.credentialVersion, id,
      ]);
      return r.affected === 1;
    },
    async bindSession(id, binding) {
      // The conditional UPDATE decides (concurrent binds queue on the row lock and re-read it); the
      // read only tells a bound session from a missing one.
      const r = await db.exec(`UPDATE sessions SET binding_kind = ?, binding_jkt = ?, binding_key = ? WHERE id = ? AND binding_kind IS NULL`, [
        ...bindingParams(binding), id,
      ]);
      if (r.affected === 1) return 'ok';
      return (await db.exec(`SELECT 1 AS one FROM sessions WHERE id = ?`, [id])).rows.length === 1 ? 'bound' : 'missing';
    },
    async listSessionsByUser(userId, now) {
      const r = await db.exec<SessionRow>(`SELECT ${COLS} FROM sessions WHERE user_id = ? AND ${LIVE} ORDER BY created_at, id`, [userId, now]);
      return r.rows.map(toSession);
    },
    async deleteSession(id) {
      return db.tx(async (q) => {
        const r = await q.exec<SessionRow>(`SELECT ${COLS} FROM sessions WHERE id = ? FOR UPDATE`, [id]);
        if (!r.rows[0]) return null;
        await q.exec(`DELETE FROM sessions WHERE id = ?`, [id]);
        return toSession(r.rows[0]);
      });
    },
    async deleteUserSessions(userId, exceptId) {
      return db.tx(async (q) => {
        // The user's row first, as createSession takes it: a sign-in evicting sessions and this delete
        // then queue on one lock instead of locking the same session rows in different orders.
        await q.exec(`SELECT id FROM users WHERE id = ? FOR UPDATE`, [userId]);
        const r = await q.exec<{ id: string }>(`SELECT id FROM sessions WHERE user_id = ? AND id <> ? FOR UPDATE`, [userId, exceptId ?? '']);
        const ids = r.rows.map((x) => x.id);
        await deleteIds(q, ids);
        return ids;
      });
    },
    async deleteExpiredSessions(now) {
      return deleteInBatches(db, 'sessions', 'expiry', now);
    },
    async getSessionData(id) {
      const r = await db.exec<{ data: string | null }>(
        `SELECT d.data AS data FROM sessions s LEFT JOIN session_data d ON d.session_id = s.id WHERE s.id = ?`,
        [id],
      );
      const row = r.rows[0];
      if (!row) return null;
      return row.data === null ? {} : (JSON.parse(row.data) as SessionData);
    },
    async patchSessionData(id, patch, maxBytes) {
      return db.tx(async (q) => {
        // The session's row lock serialises patches of one session: read, merge, measure, write.
        const r = await q.exec<{ data: string | null }>(
          `SELECT d.data AS data FROM sessions s LEFT JOIN session_data d ON d.session_id = s.id WHERE s.id = ? FOR UPDATE`,
          [id],
        );
        const row = r.rows[0];
        if (!row) return 'missing';
        const data: SessionData = row.data === null ? {} : (JSON.parse(row.data) as SessionData);
        for (const k of patch.unset) delete data[k];
        Object.assign(data, patch.set);
        const text = JSON.stringify(data);
        if (Buffer.byteLength(text, 'utf8') > maxBytes) return 'too_large';
        await q.exec(`INSERT INTO session_data (session_id, data) VALUES (?, ?) ON DUPLICATE KEY UPDATE data = ?`, [id, text, text]);
        return 'ok';
      });
    },
  };
}
