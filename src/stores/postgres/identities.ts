/** Linked identity-provider accounts and the sessions opened through them, in PostgreSQL. */
import type { FederatedSessionRecord, IdentityRecord, IdentityStore } from '../../ports.js';
import type { Db } from './db.js';
import { deleteInBatches } from './sweep.js';

/** An identities row as pg returns it (int8 columns parse as numbers in this pool). */
type IdentityRow = {
  id: string;
  user_id: string;
  provider: string;
  subject: string;
  email: string | null;
  email_verified: boolean;
  created_at: number;
  last_used_at: number | null;
};

type FedRow = { session_id: string; user_id: string; provider: string; subject: string; sid: string | null; created_at: number; expires_at: number };

const ID_COLS = 'id, user_id, provider, subject, email, email_verified, created_at, last_used_at';
const FED_COLS = 'session_id, user_id, provider, subject, sid, created_at, expires_at';

const toIdentity = (r: IdentityRow): IdentityRecord => ({
  id: r.id,
  userId: r.user_id,
  provider: r.provider,
  subject: r.subject,
  email: r.email,
  emailVerified: r.email_verified,
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

export function createPostgresIdentityStore(db: Db): IdentityStore {
  return {
    async createIdentity(r) {
      const out = await db.query(`INSERT INTO identities (${ID_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`, [
        r.id, r.userId, r.provider, r.subject, r.email, r.emailVerified, r.createdAt, r.lastUsedAt,
      ]);
      return out.rowCount === 1 ? 'ok' : 'taken';
    },
    async getIdentity(provider, subject) {
      const r = await db.query<IdentityRow>(`SELECT ${ID_COLS} FROM identities WHERE provider = $1 AND subject = $2`, [provider, subject]);
      return r.rows[0] ? toIdentity(r.rows[0]) : null;
    },
    async listIdentities(userId) {
      const r = await db.query<IdentityRow>(`SELECT ${ID_COLS} FROM identities WHERE user_id = $1 ORDER BY created_at, id`, [userId]);
      return r.rows.map(toIdentity);
    },
    async recordIdentityUse(id, at, email, emailVerified) {
      return (await db.query(`UPDATE identities SET last_used_at = $2, email = $3, email_verified = $4 WHERE id = $1`, [id, at, email, emailVerified])).rowCount === 1;
    },
    async deleteIdentity(userId, id, unlessLast) {
      return db.tx(async (q) => {
        // Locking the user's rows first serialises concurrent unlinks of one user: the second one
        // re-reads after the first commits and counts what is left.
        const mine = await q.query<{ id: string }>(`SELECT id FROM identities WHERE user_id = $1 ORDER BY id FOR UPDATE`, [userId]);
        if (!mine.rows.some((r) => r.id === id)) return 'missing' as const;
        if (unlessLast && mine.rows.length <= 1) return 'last' as const;
        const r = await q.query(`DELETE FROM identities WHERE id = $1 AND user_id = $2`, [id, userId]);
        return r.rowCount === 1 ? ('ok' as const) : ('missing' as const);
      });
    },
    async deleteIdentitiesByUser(userId) {
      await db.query(`DELETE FROM federated_sessions WHERE user_id = $1`, [userId]);
      return (await db.query(`DELETE FROM identities WHERE user_id = $1`, [userId])).rowCount;
    },
    async putFederatedSession(f) {
      await db.query(
        `INSERT INTO federated_sessions (${FED_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (session_id) DO UPDATE SET user_id = EXCLUDED.user_id, provider = EXCLUDED.provider, subject = EXCLUDED.subject, sid = EXCLUDED.sid,
           created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at`,
        [f.sessionId, f.userId, f.provider, f.subject, f.sid, f.createdAt, f.expiresAt],
      );
    },
    async listFederatedSessions(userId) {
      const r = await db.query<FedRow>(`SELECT ${FED_COLS} FROM federated_sessions WHERE user_id = $1 ORDER BY created_at, session_id`, [userId]);
      return r.rows.map(toFed);
    },
    async findFederatedSessions(provider, by) {
      const r =
        'sid' in by
          ? await db.query<FedRow>(`SELECT ${FED_COLS} FROM federated_sessions WHERE provider = $1 AND sid = $2`, [provider, by.sid])
          : await db.query<FedRow>(`SELECT ${FED_COLS} FROM federated_sessions WHERE provider = $1 AND subject = $2`, [provider, by.subject]);
      return r.rows.map(toFed);
    },
    async deleteExpiredFederatedSessions(now) {
      return deleteInBatches(db, 'federated_sessions', now);
    },
  };
}
