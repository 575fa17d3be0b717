/**
 * The embedded default: every port in one SQLite file (better-sqlite3, WAL). Processes sharing the
 * file (server, CLI, workers) hear of each other's revocations through the `change_log` feed.
 *
 * @example
 *   import { openSqliteStores } from 'gatehouse/stores/sqlite';
 *   const stores = openSqliteStores({ path: './data/gatehouse.db' });
 */
import type { ChangeFeed, Stores } from '../../ports.js';
import { createSqliteAuditLog } from './audit.js';
import { openDatabase } from './db.js';
import { createSqliteFeed } from './feed.js';
import { createSqliteChallengeStore, createSqlitePasskeyStore, createSqliteRecoveryCodeStore, createSqliteTotpStore } from './factors.js';
import { createSqliteIdentityStore } from './identities.js';
import { createSqliteKeyStore } from './keys.js';
import { applyMigrations } from './migrations.js';
import { createSqliteOneTimeStore } from './one-time.js';
import { createSqliteProofStore } from './proofs.js';
import { createSqliteRefreshStore } from './refresh.js';
import { createSqliteSessionStore } from './sessions.js';
import { createSqliteUserStore } from './users.js';

export { migrateSqlite, MIGRATIONS, type Migration } from './migrations.js';

export interface SqliteStoresOptions {
  /** Database file, created 0600 in a 0700 directory if missing; ':memory:' for a throwaway database. */
  path: string;
  /** Defaults to the `change_log` feed shared by every process on this file. */
  feed?: ChangeFeed;
  /** Poll interval of the default feed (ms). */
  feedPollMs?: number;
  /** How long the default feed keeps events for replay (ms, default 2 h). */
  feedRetentionMs?: number;
}

export function openSqliteStores(opts: SqliteStoresOptions): Stores {
  const db = openDatabase(opts.path);
  try {
    applyMigrations(db);
  } catch (err) {
    db.close();
    throw err;
  }
  const feed =
    opts.feed ??
    createSqliteFeed(db, {
      ...(opts.feedPollMs === undefined ? {} : { pollMs: opts.feedPollMs }),
      ...(opts.feedRetentionMs === undefined ? {} : { retentionMs: opts.feedRetentionMs }),
    });
  const proofs = createSqliteProofStore(db, opts.path);
  const ping = db.prepare('SELECT 1');
  let closed = false;
  return {
    users: createSqliteUserStore(db),
    sessions: createSqliteSessionStore(db),
    refreshTokens: createSqliteRefreshStore(db),
    keys: createSqliteKeyStore(db),
    audit: createSqliteAuditLog(db),
    oneTimeTokens: createSqliteOneTimeStore(db),
    totp: createSqliteTotpStore(db),
    recoveryCodes: createSqliteRecoveryCodeStore(db),
    passkeys: createSqlitePasskeyStore(db),
    challenges: createSqliteChallengeStore(db),
    identities: createSqliteIdentityStore(db),
    proofs: proofs.store,
    feed,
    async ping() {
      ping.get();
    },
    async close() {
      if (closed) return;
      closed = true;
      await feed.close();
      proofs.close();
      db.close();
    },
  };
}
