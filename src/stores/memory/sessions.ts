import type { SessionData, SessionRecord, SessionStore } from '../../ports.js';
import { clone, IdIndex } from './copy.js';

/** Expired at `now` when either deadline has been reached (the deadline itself is already expired). */
export function sessionExpired(s: SessionRecord, now: number): boolean {
  return now >= s.idleExpiresAt || now >= s.expiresAt;
}

const oldestFirst = (a: SessionRecord, b: SessionRecord) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

export function createMemorySessionStore(): SessionStore {
  const sessions = new Map<string, SessionRecord>();
  const data = new Map<string, SessionData>();
  const byUser = new IdIndex();

  function remove(id: string): SessionRecord | null {
    const s = sessions.get(id);
    if (!s) return null;
    sessions.delete(id);
    data.delete(id);
    byUser.remove(s.userId, id);
    return s;
  }

  function ofUser(userId: string): SessionRecord[] {
    return byUser.get(userId).map((id) => sessions.get(id)!);
  }

  return {
    async createSession(session, { maxPerUser }) {
      const now = session.createdAt;
      const rivals = ofUser(session.userId)
        .filter((s) => s.mode === session.mode && !sessionExpired(s, now))
        .sort(oldestFirst);
      sessions.set(session.id, clone(session));
      byUser.add(session.userId, session.id);
      const excess = Math.max(0, rivals.length + 1 - maxPerUser);
      return rivals.slice(0, excess).map((s) => remove(s.id)!);
    },
    async countLiveSessions(now) {
      const out = { session: 0, token: 0 };
      for (const s of sessions.values()) if (!sessionExpired(s, now)) out[s.mode] += 1;
      return out;
    },
    async getSession(id, now) {
      const s = sessions.get(id);
      if (!s) return null;
      if (sessionExpired(s, now)) {
        remove(id); // expired records never come back to life, so they can go now
        return null;
      }
      return clone(s);
    },
    async touchSession(id, lastSeenAt, idleExpiresAt) {
      const s = sessions.get(id);
      if (!s) return false;
      s.lastSeenAt = Math.max(s.lastSeenAt, lastSeenAt);
      s.idleExpiresAt = Math.min(Math.max(s.idleExpiresAt, idleExpiresAt), s.expiresAt);
      return true;
    },
    async setSessionAuth(id, auth) {
      const s = sessions.get(id);
      if (!s) return false;
      s.authAt = auth.authAt;
      s.amr = [...auth.amr];
      s.acr = auth.acr;
      s.credentialVersion = auth.credentialVersion;
      return true;
    },
    async bindSession(id, binding) {
      const s = sessions.get(id);
      if (!s) return 'missing';
      if (s.binding !== null) return 'bound';
      s.binding = clone(binding);
      return 'ok';
    },
    async listSessionsByUser(userId, now) {
      return ofUser(userId).filter((s) => !sessionExpired(s, now)).sort(oldestFirst).map(clone);
    },
    async deleteSession(id) {
      return remove(id);
    },
    async deleteUserSessions(userId, exceptId) {
      const ids = byUser.get(userId).filter((id) => id !== exceptId);
      for (const id of ids) remove(id);
      return ids;
    },
    async deleteExpiredSessions(now) {
      let n = 0;
      for (const s of sessions.values()) {
        if (sessionExpired(s, now)) {
          remove(s.id);
          n++;
        }
      }
      return n;
    },
    async getSessionData(id) {
      if (!sessions.has(id)) return null;
      return clone(data.get(id) ?? {});
    },
    async patchSessionData(id, patch, maxBytes) {
      if (!sessions.has(id)) return 'missing';
      const entries = new Map(Object.entries(data.get(id) ?? {}));
      for (const k of patch.unset) entries.delete(k);
      for (const [k, v] of Object.entries(patch.set)) entries.set(k, clone(v));
      const merged: SessionData = Object.fromEntries(entries);
      if (Buffer.byteLength(JSON.stringify(merged), 'utf8') > maxBytes) return 'too_large';
      data.set(id, merged);
      return 'ok';
    },
  };
}
