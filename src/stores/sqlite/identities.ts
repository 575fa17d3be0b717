/** Linked identity-provider accounts and the sessions opened through them, in SQLite. */
import type Database from 'better-sqlite3';
import type { FederatedSessionRecord, IdentityRecord, IdentityStore } from '../../ports.js';
import { batchedDelete } from './sweep.js';

interface IdentityRow {
  id: string;
  user_id: string;
  provider: string;
  subject: string;
  email: string | null;
  email_verified: number;
  created_at: number;
  last_used_at: number | null;
}

interface FedRow {
  session_id: string;
  user_id: string;
  provider: string;
  subject: string;
  sid: string | null;
  created_at: number;
  expires_at: number;
}

const toIdentity = (r: IdentityRow): IdentityRecord => ({
  id: r.id,
  userId: r.user_id,
  provider: r.provider,
  subject: r.subject,
  email: r.email,
  emailVerified: r.email_verified === 1,
  createdAt: r.created_at,
  lastUsedAt: r.last_used_at,
});

const toFed = (r: FedRow): FederatedSessionRecord => ({
  sessionId: r.session_id,
  userId: r.user_id,
  provider: r.provider,
  subject: r.subject,
  sid: r.sid,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
});

export function createSqliteIdentityStore(db: Database.Database): IdentityStore {
  const insert = db.prepare(
    `INSERT INTO identities (id, user_id, provider, subject, email, email_verified, created_at, last_used_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
  );
  const get = db.prepare<[string, string], IdentityRow>('SELECT * FROM identities WHERE provider = ? AND subject = ?');
  const list = db.prepare<[string], IdentityRow>('SELECT * FROM identities WHERE user_id = ? ORDER BY created_at, id');
  const use = db.prepare('UPDATE identities SET last_used_at = ?, email = ?, email_verified = ? WHERE id = ?');
  const count = db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM identities WHERE user_id = ?');
  const owned = db.prepare<[string, string], { id: string }>('SELECT id FROM identities WHERE id = ? AND user_id = ?');
  const del = db.prepare('DELETE FROM identities WHERE id = ? AND user_id = ?');
  const delUser = db.prepare('DELETE FROM identities WHERE user_id = ?');
  const delFedUser = db.prepare('DELETE FROM federated_sessions WHERE user_id = ?');
  const putFed = db.prepare(
    `INSERT INTO federated_sessions (session_id, user_id, provider, subject, sid, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (session_id) DO UPDATE SET user_id = excluded.user_id, provider = excluded.provider, subject = excluded.subject, sid = excluded.sid,
       created_at = excluded.created_at, expires_at = excluded.expires_at`,
  );
  const fedByUser = db.prepare<[string], FedRow>('SELECT * FROM federated_sessions WHERE user_id = ? ORDER BY created_at, session_id');
  const fedBySid = db.prepare<[string, string], FedRow>('SELECT * FROM federated_sessions WHERE provider = ? AND sid = ?');
  const fedBySubject = db.prepare<[string, string], FedRow>('SELECT * FROM federated_sessions WHERE provider = ? AND subject = ?');
  const fedExpired = batchedDelete(db, 'federated_sessions', 'expires_at');

  // One transaction (better-sqlite3 runs it alone on the connection; other processes wait on the
  // write lock), so the count and the delete see the same rows.
  const deleteOne = db.transaction((userId: string, id: string, unlessLast: boolean): 'ok' | 'missing' | 'last' => {
    if (!owned.get(id, userId)) return 'missing';
    if (unlessLast && count.get(userId)!.n <= 1) return 'last';
    return del.run(id, userId).changes === 1 ? 'ok' : 'missing';
  });
  const deleteAll = db.transaction((userId: string) => {
    delFedUser.run(userId);
    return delUser.run(userId).changes;
  });

  return {
    async createIdentity(r) {
      return insert.run(r.id, r.userId, r.provider, r.subject, r.email, r.emailVerified ? 1 : 0, r.createdAt, r.lastUsedAt).changes === 1 ? 'ok' : 'taken';
    },
    async getIdentity(provider, subject) {
      const r = get.get(provider, subject);
      return r ? toIdentity(r) : null;
    },
    async listIdentities(userId) {
      return list.all(userId).map(toIdentity);
    },
    async recordIdentityUse(id, at, email, emailVerified) {
      return use.run(at, email, emailVerified ? 1 : 0, id).changes === 1;
    },
    async deleteIdentity(userId, id, unlessLast) {
      return deleteOne.immediate(userId, id, unlessLast);
    },
    async deleteIdentitiesByUser(userId) {
      return deleteAll.immediate(userId);
    },
    async putFederatedSession(f) {
      putFed.run(f.sessionId, f.userId, f.provider, f.subject, f.sid, f.createdAt, f.expiresAt);
    },
    async listFederatedSessions(userId) {
      return fedByUser.all(userId).map(toFed);
    },
    async findFederatedSessions(provider, by) {
      return ('sid' in by ? fedBySid.all(provider, by.sid) : fedBySubject.all(provider, by.subject)).map(toFed);
    },
    async deleteExpiredFederatedSessions(now) {
      return fedExpired(now);
    },
  };
}
