/**
 * MySQL and MariaDB stores: every port on one `mysql2` pool (prepared statements), InnoDB tables in
 * utf8mb4 with binary collation, versioned migrations under a named lock, and a change feed polled
 * from a change-log table.
 *
 * @example
 * const stores = await openMysqlStores({ url: 'mysql://gatehouse:secret@db:3306/gatehouse' });
 */
import { CONFIG_DEFAULTS } from '../../config.js';
import mysql from 'mysql2/promise';
import type { ChangeFeed, Stores } from '../../ports.js';
import { StoreUnavailableError } from '../../errors.js';
import { Db, isMysqlUrl, poolOptions, wrapError } from './db.js';
import { binaryCollation, migrate } from './migrations.js';
import { createMysqlUserStore } from './users.js';
import { createMysqlSessionStore } from './sessions.js';
import { createMysqlRefreshStore } from './refresh.js';
import { createMysqlKeyStore } from './keys.js';
import { createMysqlAuditLog } from './audit.js';
import { createMysqlOneTimeStore } from './one-time.js';
import { createMysqlChallengeStore, createMysqlPasskeyStore, createMysqlRecoveryCodeStore, createMysqlTotpStore } from './factors.js';
import { createMysqlIdentityStore } from './identities.js';
import { createMysqlProofStore } from './proofs.js';
import { createMysqlFeed } from './feed.js';

export { createMysqlFeed } from './feed.js';
export type { MysqlFeedOptions, MysqlChangeFeed } from './feed.js';
export { MIGRATIONS, migrate, migrationSql } from './migrations.js';
export { Db as MysqlDb } from './db.js';

export interface MysqlStoreOptions {
  /** `mysql://user:pass@host:3306/database` or `mariadb://…`; mysql2 options (e.g. `ssl`) may follow as query parameters. */
  url: string;
  /** Per-operation budget; beyond it an operation fails with StoreUnavailableError. Default: `storeTimeout` (GATEHOUSE_STORE_TIMEOUT, 2 s). */
  timeoutMs?: number;
  /** The change feed to use; default: the polled `change_log` of this database. */
  feed?: ChangeFeed;
  /** Pool size. Default 10. */
  max?: number;
  /** Poll interval of the default feed (ms, default 250). */
  feedPollMs?: number;
  /** How long the default feed keeps events for replay (ms, at least 2 h). */
  feedRetentionMs?: number;
  /** Create the database named in the URL when it does not exist (utf8mb4, binary NO PAD collation). Default true. */
  createDatabase?: boolean;
}

const ER_BAD_DB_ERROR = 1049;

/** Creates the URL's database if it is missing (the account needs the CREATE privilege for that). */
async function ensureDatabase(url: string, timeoutMs: number): Promise<void> {
  const base = poolOptions({ url, timeoutMs });
  const u = new URL(url.replace(/^mariadb:/, 'mysql:'));
  const database = decodeURIComponent(u.pathname.slice(1));
  if (!database) return;
  u.pathname = '/';
  let c: mysql.Connection | null = null;
  try {
    c = await mysql.createConnection({ ...base, uri: u.toString() });
    const [[v]] = await c.query<mysql.RowDataPacket[]>('SELECT @@version AS v');
    const collation = binaryCollation(/mariadb/i.test(String(v?.v)) ? 'mariadb' : 'mysql');
    await c.query(`CREATE DATABASE IF NOT EXISTS ${mysql.escapeId(database)} CHARACTER SET utf8mb4 COLLATE ${collation}`);
  } catch (e) {
    throw wrapError(e);
  } finally {
    await c?.end().catch(() => {});
  }
}

export async function openMysqlStores(opts: MysqlStoreOptions): Promise<Stores & { db: Db }> {
  if (!isMysqlUrl(opts.url)) throw new TypeError('the MySQL store needs a mysql:// or mariadb:// URL');
  const timeoutMs = opts.timeoutMs ?? CONFIG_DEFAULTS.storeTimeout;
  let db = new Db({ url: opts.url, timeoutMs, max: opts.max ?? 10 });
  let feed: ChangeFeed;
  try {
    try {
      await migrate(db);
    } catch (e) {
      const cause = e instanceof StoreUnavailableError ? e.cause : e;
      if ((cause as { errno?: unknown } | null)?.errno !== ER_BAD_DB_ERROR || opts.createDatabase === false) throw e;
      await db.close();
      await ensureDatabase(opts.url, timeoutMs);
      db = new Db({ url: opts.url, timeoutMs, max: opts.max ?? 10 });
      await migrate(db);
    }
    feed = opts.feed ?? (await createMysqlFeed({
      db,
      ...(opts.feedPollMs === undefined ? {} : { pollMs: opts.feedPollMs }),
      ...(opts.feedRetentionMs === undefined ? {} : { retentionMs: opts.feedRetentionMs }),
    }));
  } catch (e) {
    await db.close().catch(() => {});
    throw e;
  }
  const ownFeed = !opts.feed;
  const pool = db;
  return {
    db: pool,
    users: createMysqlUserStore(pool),
    sessions: createMysqlSessionStore(pool),
    refreshTokens: createMysqlRefreshStore(pool),
    keys: createMysqlKeyStore(pool),
    audit: createMysqlAuditLog(pool),
    oneTimeTokens: createMysqlOneTimeStore(pool),
    totp: createMysqlTotpStore(pool),
    recoveryCodes: createMysqlRecoveryCodeStore(pool),
    passkeys: createMysqlPasskeyStore(pool),
    challenges: createMysqlChallengeStore(pool),
    identities: createMysqlIdentityStore(pool),
    proofs: createMysqlProofStore(pool),
    feed,
    async ping() {
      await pool.exec('SELECT 1');
    },
    async close() {
      if (ownFeed) await feed.close();
      await pool.close();
    },
  };
}
