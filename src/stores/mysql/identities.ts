/** Linked identity-provider accounts and the sessions opened through them, in MySQL / MariaDB. */
import type { FederatedSessionRecord, IdentityRecord, IdentityStore } from '../../ports.js';
import type { Db, Row } from './db.js';
import { deleteInBatches } from './sweep.js';

const ER_DUP_ENTRY = 1062;
const isDuplicate = (e: unknown) => (e as { errno?: unknown } | null)?.errno === ER_DUP_ENTRY;
const ID_COLS = 'id, user_id, provider, subject, email, email_verified, created_at, last_used_at';
const FED_COLS = 'session_id, user_id, provider, subject, sid, created_at, expires_at';

const toIdentity = (r: Row): IdentityRecord => ({
  id: r.id as string,
  userId: r.user_id as string,
  provider: r.provider as string,
  subject: r.subject as string,
  email: (r.email as string | null) ?? null,
  emailVerified: Number(r.email_verified) === 1,
  createdAt: Number(r.created_at),
  lastUsedAt: r.last_used_at === null || r.last_used_at === undefined ? null : Number(r.last_used_at),
});

const toFed = (r: Row): FederatedSessionRecord => ({
  sessionId: r.session_id as string,
  userId: r.user_id as string,
  provider: r.provider as string,
  subject: r.subject as string,
  sid: (r.sid as string | null) ?? null,
  createdAt: Number(r.created_at),
  expiresAt: Number(r.expires_at),
});

export function createMysqlIdentityStore(db: Db): IdentityStore {
  return {
    async createIdentity(i) {
      try {
        await db.exec(`INSERT INTO identities (${ID_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, [i.id, i.userId, i.provider, i.subject, i.email, i.emailVerified ? 1 : 0, i.createdAt, i.lastUsedAt]);
        return 'ok';
      } catch (e) {
        if (isDuplicate(e)) return 'taken';
        throw e;
      }
    },
    async getIdentity(provider, subject) {
      const r = await db.exec(`SELECT ${ID_COLS} FROM identities WHERE provider = ? AND subject = ?`, [provider, subject]);
      return r.rows[0] ? toIdentity(r.rows[0]) : null;
    },
    async listIdentities(userId) {
      const r = await db.exec(`SELECT ${ID_COLS} FROM identities WHERE user_id = ? ORDER BY created_at, id`, [userId]);
      return r.rows.map(toIdentity);
    },
    async recordIdentityUse(id, at, email, emailVerified) {
      return (await db.exec(`UPDATE identities SET last_used_at = ?, email = ?, email_verified = ? WHERE id = ?`, [at, email, emailVerified ? 1 : 0, id])).affected === 1;
    },
    async deleteIdentity(userId, id, unlessLast) {
      return db.tx(async (q) => {
        // Locking the user's rows first serialises concurrent unlinks of one user.
        const mine = await q.exec<{ id: string }>(`SELECT id FROM identities WHERE user_id = ? ORDER BY id FOR UPDATE`, [userId]);
        if (!mine.rows.some((r) => r.id === id)) return 'missing' as const;
        if (unlessLast && mine.rows.length <= 1) return 'last' as const;
        const r = await q.exec(`DELETE FROM identities WHERE id = ? AND user_id = ?`, [id, userId]);
        return r.affected === 1 ? ('ok' as const) : ('missing' as const);
      });
    },
    async deleteIdentitiesByUser(userId) {
      await db.exec(`DELETE FROM federated_sessions WHERE user_id = ?`, [userId]);
      return (await db.exec(`DELETE FROM identities WHERE user_id = ?`, [userId])).affected;
    },
    async putFederatedSession(f) {
      await db.exec(
        `INSERT INTO federated_sessions (${FED_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON DUPLICATE KEY UPDATE user_id = VALUES(user_id), provider = VALUES(provider), subject = VALUES(subject), sid = VALUES(sid), created_at = VALUES(created_at), expires_at = VALUES(expires_at)`,
        [f.sessionId, f.userId, f.provider, f.subject, f.sid, f.createdAt, f.expiresAt],
      );
    },
    async listFederatedSessions(userId) {
      const r = await db.exec(`SELECT ${FED_COLS} FROM federated_sessions WHERE user_id = ? ORDER BY created_at, session_id`, [userId]);
      return r.rows.map(toFed);
    },
    async findFederatedSessions(provider, by) {
      const r =
        'sid' in by
          ? await db.exec(`SELECT ${FED_COLS} FROM federated_sessions WHERE provider = ? AND sid = ?`, [provider, by.sid])
          : await db.exec(`SELECT ${FED_COLS} FROM federated_sessions WHERE provider = ? AND subject = ?`, [provider, by.subject]);
      return r.rows.map(toFed);
    },
    async deleteExpiredFederatedSessions(now) {
      return deleteInBatches(db, 'federated_sessions', 'expires_at', now);
    },
  };
}
