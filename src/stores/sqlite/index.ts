/**
 * The embedded default: every port in one SQLite file (better-sqlite3, WAL). One process owns
 * revocation delivery through the in-process feed; run one instance per database file.
 *
 * @example
 *   import { openSqliteStores } from 'gatehouse/stores/sqlite';
 *   const stores = openSqliteStores({ path: './data/gatehouse.db' });
 */
import type { ChangeFeed, Stores } from '../../ports.js';
import { createLocalFeed } from '../memory/feed.js';
import { createSqliteAuditLog } from './audit.js';
import { openDatabase } from './db.js';
import { createSqliteKeyStore } from './keys.js';
import { applyMigrations } from './migrations.js';
import { createSqliteOneTimeStore } from './one-time.js';
import { createSqliteRefreshStore } from './refresh.js';
import { createSqliteSessionStore } from './sessions.js';
import { createSqliteUserStore } from './users.js';

export { migrateSqlite, MIGRATIONS, type Migration } from './migrations.js';

export interface SqliteStoresOptions {
  /** Database file, created 0600 in a 0700 directory if missing; ':memory:' for a throwaway database. */
  path: string;
  /** Defaults to an in-process feed (createLocalFeed()). */
  feed?: ChangeFeed;
}

export function openSqliteStores(opts: SqliteStoresOptions): Stores {
  const db = openDatabase(opts.path);
  try {
    applyMigrations(db);
  } catch (err) {
    db.close();
    throw err;
  }
  const feed = opts.feed ?? createLocalFeed();
  const ping = db.prepare('SELECT 1');
  let closed = false;
  return {
    users: createSqliteUserStore(db),
    sessions: createSqliteSessionStore(db),
    refreshTokens: createSqliteRefreshStore(db),
    keys: createSqliteKeyStore(db),
    audit: createSqliteAuditLog(db),
    oneTimeTokens: createSqliteOneTimeStore(db),
    feed,
    async ping() {
      ping.get();
    },
    async close() {
      if (closed) return;
      closed = true;
      await feed.close();
      db.close();
    },
  };
}
