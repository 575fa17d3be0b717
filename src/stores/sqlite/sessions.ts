import type Database from 'better-sqlite3';
import type { SessionData, SessionRecord, SessionStore } from '../../ports.js';
import { amrText, bindingParams, SESSION_COLUMNS, sessionParams, toSession, type SessionRow } from './session-rows.js';
import { batchedDelete } from './sweep.js';

// A session is live while now is before both deadlines (reaching a deadline is expiry).
const LIVE = 'idle_expires_at > @now AND expires_at > @now';

export function createSqliteSessionStore(db: Database.Database): SessionStore {
  const insert = db.prepare(`INSERT INTO sessions (${SESSION_COLUMNS}) VALUES (${SESSION_COLUMNS.split(',').map(() => '?').join(', ')})`);
  const rivals = db.prepare<{ userId: string; mode: string; id: string; now: number }, SessionRow>(
    `SELECT ${SESSION_COLUMNS} FROM sessions WHERE user_id = @userId AND mode = @mode AND id <> @id AND ${LIVE}
     ORDER BY created_at, id`,
  );
  const removeOne = db.prepare<[string], SessionRow>(`DELETE FROM sessions WHERE id = ? RETURNING ${SESSION_COLUMNS}`);
  const get = db.prepare<{ id: string; now: number }, SessionRow>(`SELECT ${SESSION_COLUMNS} FROM sessions WHERE id = @id AND ${LIVE}`);
  const touch = db.prepare(
    `UPDATE sessions SET last_seen_at = max(last_seen_at, ?), idle_expires_at = min(max(idle_expires_at, ?), expires_at)
     WHERE id = ?`,
  );
  const setAuth = db.prepare('UPDATE sessions SET auth_at = ?, amr = ?, acr = ?, credential_version = ? WHERE id = ?');
  const bind = db.prepare('UPDATE sessions SET binding_kind = ?, binding_jkt = ?, binding_key = ? WHERE id = ? AND binding_kind IS NULL');
  const exists = db.prepare<[string], { n: number }>('SELECT 1 AS n FROM sessions WHERE id = ?');
  const byUser = db.prepare<{ userId: string; now: number }, SessionRow>(
    `SELECT ${SESSION_COLUMNS} FROM sessions WHERE user_id = @userId AND ${LIVE} ORDER BY created_at, id`,
  );
  const removeUser = db.prepare<[string, string | null], { id: string }>(
    'DELETE FROM sessions WHERE user_id = ? AND id IS NOT ? RETURNING id',
  );
  // In batches that yield between them (sweep.ts); by either deadline, each along its own index.
  const expiredIdle = batchedDelete(db, 'sessions', 'idle_expires_at');
  const expiredAbsolute = batchedDelete(db, 'sessions', 'expires_at');
  const dataOf = db.prepare<[string], { data: string | null }>(
    'SELECT d.data AS data FROM sessions s LEFT JOIN session_data d ON d.session_id = s.id WHERE s.id = ?',
  );
  const saveData = db.prepare(
    'INSERT INTO session_data (session_id, data) VALUES (?, ?) ON CONFLICT (session_id) DO UPDATE SET data = excluded.data',
  );

  const create = db.transaction((s: SessionRecord, maxPerUser: number): SessionRecord[] => {
    const others = rivals.all({ userId: s.userId, mode: s.mode, id: s.id, now: s.createdAt });
    insert.run(...sessionParams(s));
    const excess = Math.max(0, others.length + 1 - maxPerUser);
    return others.slice(0, excess).map((r) => {
      removeOne.run(r.id);
      return toSession(r);
    });
  });

  const patch = db.transaction((id: string, set: SessionData, unset: string[], maxBytes: number) => {
    const row = dataOf.get(id);
    if (!row) return 'missing' as const;
    const entries = new Map(Object.entries(row.data === null ? {} : (JSON.parse(row.data) as SessionData)));
    for (const k of unset) entries.delete(k);
    for (const [k, v] of Object.entries(set)) entries.set(k, v);
    const json = JSON.stringify(Object.fromEntries(entries));
    if (Buffer.byteLength(json, 'utf8') > maxBytes) return 'too_large' as const;
    saveData.run(id, json);
    return 'ok' as const;
  });

  const countLive = db.prepare<{ now: number }, { mode: string; n: number }>(`SELECT mode, COUNT(*) AS n FROM sessions WHERE ${LIVE} GROUP BY mode`);
  return {
    async countLiveSessions(now) {
      const out = { session: 0, token: 0 };
      for (const r of countLive.all({ now })) if (r.mode === 'session' || r.mode === 'token') out[r.mode] = r.n;
      return out;
    },
    async createSession(session, { maxPerUser }) {
      return create.immediate(session, maxPerUser);
    },
    async getSession(id, now) {
      const r = get.get({ id, now });
      return r ? toSession(r) : null;
    },
    async touchSession(id, lastSeenAt, idleExpiresAt) {
      return touch.run(lastSeenAt, idleExpiresAt, id).changes === 1;
    },
    async setSessionAuth(id, auth) {
      return setAuth.run(auth.authAt, amrText(auth.amr), auth.acr, auth.credentialVersion, id).changes === 1;
    },
    async bindSession(id, binding) {
      if (bind.run(...bindingParams(binding), id).changes === 1) return 'ok';
      return exists.get(id) ? 'bound' : 'missing';
    },
    async listSessionsByUser(userId, now) {
      return byUser.all({ userId, now }).map(toSession);
    },
    async deleteSession(id) {
      const r = removeOne.get(id);
      return r ? toSession(r) : null;
    },
    async deleteUserSessions(userId, exceptId) {
      return removeUser.all(userId, exceptId ?? null).map((r) => r.id);
    },
    async deleteExpiredSessions(now) {
      return (await expiredIdle(now)) + (await expiredAbsolute(now));
    },
    async getSessionData(id) {
      const row = dataOf.get(id);
      if (!row) return null;
      return row.data === null ? {} : (JSON.parse(row.data) as SessionData);
    },
    async patchSessionData(id, { set, unset }, maxBytes) {
      return patch.immediate(id, set, unset, maxBytes);
    },
  };
}
