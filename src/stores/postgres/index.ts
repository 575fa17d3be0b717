/**
 * PostgreSQL stores: every port on one `pg` pool, with versioned migrations.
 *
 * @example
 * const stores = await openPostgresStores({ url: 'postgres://app@db/gatehouse', schema: 'gatehouse' });
 */
import { CONFIG_DEFAULTS } from '../../config.js';
import type { ChangeFeed, Stores } from '../../ports.js';
import { Db, SCHEMA_RE } from './db.js';
import { migrate } from './migrations.js';
import { createPostgresUserStore } from './users.js';
import { createPostgresSessionStore } from './sessions.js';
import { createPostgresRefreshStore } from './refresh.js';
import { createPostgresKeyStore } from './keys.js';
import { createPostgresAuditLog } from './audit.js';
import { createPostgresOneTimeStore } from './one-time.js';
import { createPostgresChallengeStore, createPostgresPasskeyStore, createPostgresRecoveryCodeStore, createPostgresTotpStore } from './factors.js';
import { createPostgresIdentityStore } from './identities.js';
import { createPostgresProofStore } from './proofs.js';
import { createPostgresFeed } from './feed.js';

export { createPostgresFeed } from './feed.js';
export type { PostgresFeedOptions, PostgresChangeFeed } from './feed.js';
export { MIGRATIONS } from './migrations.js';

export interface PostgresStoreOptions {
  url: string;
  /** Schema holding Gatehouse's tables (created if missing). Default `gatehouse`. */
  schema?: string;
  /** Per-statement and connect timeout; beyond it an operation fails with StoreUnavailableError. Default: `storeTimeout` (GATEHOUSE_STORE_TIMEOUT, 2 s). */
  statementTimeoutMs?: number;
  /** The change feed to use; default: LISTEN/NOTIFY on this database. */
  feed?: ChangeFeed;
  /** Pool size. Default 10. */
  max?: number;
  /** Shown in pg_stat_activity (the feed's LISTEN connection adds `:listen`). Default `gatehouse`. */
  applicationName?: string;
  /** How long the default feed keeps events for replay (ms, at least 2 h). */
  feedRetentionMs?: number;
}

export async function openPostgresStores(opts: PostgresStoreOptions): Promise<Stores & { db: Db }> {
  const schema = opts.schema ?? CONFIG_DEFAULTS.databaseSchema;
  if (!SCHEMA_RE.test(schema)) throw new TypeError(`invalid schema name: ${JSON.stringify(schema)}`);
  const statementTimeoutMs = opts.statementTimeoutMs ?? CONFIG_DEFAULTS.storeTimeout;
  const db = new Db({ url: opts.url, schema, statementTimeoutMs, max: opts.max ?? 10, applicationName: opts.applicationName });
  try {
    await migrate((fn) => db.tx(fn), schema);
  } catch (e) {
    await db.close().catch(() => {});
    throw e;
  }
  const feed = opts.feed ?? (await createPostgresFeed({ url: opts.url, schema, statementTimeoutMs, db, applicationName: opts.applicationName, ...(opts.feedRetentionMs === undefined ? {} : { retentionMs: opts.feedRetentionMs }) }));
  const ownFeed = !opts.feed;
  return {
    db,
    users: createPostgresUserStore(db),
    sessions: createPostgresSessionStore(db),
    refreshTokens: createPostgresRefreshStore(db),
    keys: createPostgresKeyStore(db),
    audit: createPostgresAuditLog(db),
    oneTimeTokens: createPostgresOneTimeStore(db),
    totp: createPostgresTotpStore(db),
    recoveryCodes: createPostgresRecoveryCodeStore(db),
    passkeys: createPostgresPasskeyStore(db),
    challenges: createPostgresChallengeStore(db),
    identities: createPostgresIdentityStore(db),
    proofs: createPostgresProofStore(db),
    feed,
    async ping() {
      await db.query('SELECT 1');
    },
    async close() {
      if (ownFeed) await feed.close();
      await db.close();
    },
  };
}
