import { createHash } from 'node:crypto';
import type mysql from 'mysql2/promise';
import type { Db, Flavor } from './db.js';

/**
 * Versioned migrations. Append only: never edit a shipped entry, add a new version instead.
 *
 * MySQL commits every DDL statement on its own, so a migration cannot be one transaction. Each is a
 * list of statements instead, and `schema_migrations.steps_done` records every one that completed: a
 * migration interrupted half way (a crash, a lost connection) resumes at the statement it stopped at.
 *
 * Every table is InnoDB in utf8mb4 with a binary NO PAD collation: ids, hashes and canonical emails
 * compare byte for byte, exactly as the core compares them. A case- or accent-insensitive collation would
 * make `Ada@x` and `ada@x` one user; even `utf8mb4_bin` is PAD SPACE, under which `id = 'abc '` finds
 * `abc`. The collation's name differs by server (`{binary}` in the statements below, see binaryCollation).
 */
export interface Migration {
  version: number;
  name: string;
  statements: string[];
}

const TABLE = 'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE={binary} ROW_FORMAT=DYNAMIC';

/** utf8mb4, compared byte for byte without padding: MariaDB 10.2+ and MySQL 8.0.17+ name it differently. */
export function binaryCollation(flavor: Flavor): string {
  return flavor === 'mariadb' ? 'utf8mb4_nopad_bin' : 'utf8mb4_0900_bin';
}

/** A migration statement as it runs on `flavor`. */
export function migrationSql(sql: string, flavor: Flavor): string {
  return sql.replaceAll('{binary}', binaryCollation(flavor));
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial',
    statements: [
      `CREATE TABLE users (
        id VARCHAR(255) NOT NULL,
        email VARCHAR(320) NOT NULL,
        email_canonical VARCHAR(320) NOT NULL,
        password_hash VARCHAR(1024) NOT NULL,
        created_at BIGINT NOT NULL,
        disabled_at BIGINT NULL,
        email_verified_at BIGINT NULL,
        credential_version INT NOT NULL DEFAULT 0,
        PRIMARY KEY (id),
        UNIQUE KEY users_email (email_canonical),
        KEY users_created (created_at, id)
      ) ${TABLE}`,
      // expiry: the earlier deadline, stored so that the sweep reads one index in order.
      `CREATE TABLE sessions (
        id VARCHAR(255) NOT NULL,
        user_id VARCHAR(255) NOT NULL,
        secret_hash VARBINARY(64) NOT NULL,
        mode VARCHAR(16) NOT NULL,
        created_at BIGINT NOT NULL,
        last_seen_at BIGINT NOT NULL,
        idle_expires_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        auth_at BIGINT NOT NULL,
        amr VARCHAR(255) NOT NULL,
        acr VARCHAR(16) NOT NULL,
        credential_version INT NOT NULL,
        ip VARCHAR(255) NULL,
        device_browser VARCHAR(255) NULL,
        device_os VARCHAR(255) NULL,
        device_type VARCHAR(255) NULL,
        expiry BIGINT AS (LEAST(idle_expires_at, expires_at)) STORED,
        PRIMARY KEY (id),
        KEY sessions_user (user_id, mode, created_at),
        KEY sessions_expiry (expiry),
        CONSTRAINT sessions_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
      ) ${TABLE}`,
      // Apart from sessions, so that touching a session never rewrites its data.
      `CREATE TABLE session_data (
        session_id VARCHAR(255) NOT NULL,
        data MEDIUMTEXT NOT NULL,
        PRIMARY KEY (session_id),
        CONSTRAINT session_data_session_fk FOREIGN KEY (session_id) REFERENCES sessions (id) ON DELETE CASCADE
      ) ${TABLE}`,
      `CREATE TABLE refresh_tokens (
        id VARCHAR(255) NOT NULL,
        session_id VARCHAR(255) NOT NULL,
        user_id VARCHAR(255) NOT NULL,
        secret_hash VARBINARY(64) NOT NULL,
        created_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        spent_at BIGINT NULL,
        successor_id VARCHAR(255) NULL,
        successor_salt VARBINARY(64) NULL,
        PRIMARY KEY (id),
        KEY refresh_session (session_id),
        KEY refresh_user (user_id),
        KEY refresh_expiry (expires_at),
        CONSTRAINT refresh_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
      ) ${TABLE}`,
      `CREATE TABLE signing_keys (
        kid VARCHAR(255) NOT NULL,
        alg VARCHAR(16) NOT NULL,
        public_jwk TEXT NULL,
        private_jwk TEXT NOT NULL,
        encrypted BOOLEAN NOT NULL,
        created_at BIGINT NOT NULL,
        retired_at BIGINT NULL,
        verify_until BIGINT NULL,
        PRIMARY KEY (kid)
      ) ${TABLE}`,
      // No foreign key: the trail outlives the accounts it mentions.
      `CREATE TABLE audit_events (
        id VARCHAR(255) NOT NULL,
        at BIGINT NOT NULL,
        type VARCHAR(64) NOT NULL,
        user_id VARCHAR(255) NULL,
        session_id VARCHAR(255) NULL,
        ip VARCHAR(255) NULL,
        user_agent VARCHAR(1024) NULL,
        detail TEXT NULL,
        PRIMARY KEY (id),
        KEY audit_user (user_id, id),
        KEY audit_at (at)
      ) ${TABLE}`,
      `CREATE TABLE one_time_tokens (
        id VARCHAR(255) NOT NULL,
        user_id VARCHAR(255) NOT NULL,
        purpose VARCHAR(32) NOT NULL,
        secret_hash VARBINARY(64) NOT NULL,
        binding TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        used_at BIGINT NULL,
        PRIMARY KEY (id),
        KEY one_time_user (user_id, purpose),
        KEY one_time_expiry (expires_at),
        CONSTRAINT one_time_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
      ) ${TABLE}`,
      // The change feed: seq is handed out under the lock of the single change_head row, so rows
      // commit in seq order and a poller reading `seq > last` can never skip one (see feed.ts).
      // tag: which feed published the row (its instance id and a counter), so it skips its own.
      `CREATE TABLE change_log (
        seq BIGINT NOT NULL,
        at BIGINT NOT NULL,
        tag VARCHAR(64) NOT NULL,
        event TEXT NOT NULL,
        PRIMARY KEY (seq),
        KEY change_log_at (at)
      ) ${TABLE}`,
      `CREATE TABLE change_head (
        id TINYINT NOT NULL,
        seq BIGINT NOT NULL,
        PRIMARY KEY (id)
      ) ${TABLE}`,
      `INSERT INTO change_head (id, seq) VALUES (1, 0)`,
    ],
  },
  {
    version: 2,
    name: 'second-factors',
    // Second factors and passkeys, and what an unfinished authentication waits on.
    statements: [
      `CREATE TABLE totp_authenticators (
        user_id VARCHAR(255) NOT NULL,
        secret TEXT NOT NULL,
        encrypted BOOLEAN NOT NULL,
        created_at BIGINT NOT NULL,
        confirmed_at BIGINT NULL,
        last_step BIGINT NULL,
        PRIMARY KEY (user_id),
        CONSTRAINT totp_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
      ) ${TABLE}`,
      `CREATE TABLE recovery_codes (
        user_id VARCHAR(255) NOT NULL,
        code_hash VARBINARY(64) NOT NULL,
        created_at BIGINT NOT NULL,
        PRIMARY KEY (user_id, code_hash),
        CONSTRAINT recovery_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
      ) ${TABLE}`,
      // A credential id is up to 1,023 bytes (1,364 base64url characters): kept as bytes, which makes
      // an exact key that fits an index where utf8mb4 characters (4 bytes each) would not.
      `CREATE TABLE passkeys (
        id VARBINARY(1400) NOT NULL,
        user_id VARCHAR(255) NOT NULL,
        user_handle VARCHAR(255) NOT NULL,
        public_key BLOB NOT NULL,
        counter BIGINT NOT NULL,
        transports TEXT NOT NULL,
        device_type VARCHAR(16) NOT NULL,
        backed_up BOOLEAN NOT NULL,
        name TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        last_used_at BIGINT NULL,
        PRIMARY KEY (id),
        KEY passkeys_user (user_id, created_at),
        CONSTRAINT passkeys_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
      ) ${TABLE}`,
      `CREATE TABLE auth_challenges (
        id VARCHAR(255) NOT NULL,
        purpose VARCHAR(32) NOT NULL,
        secret_hash VARBINARY(64) NOT NULL,
        user_id VARCHAR(255) NULL,
        binding TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        failures INT NOT NULL,
        used_at BIGINT NULL,
        PRIMARY KEY (id),
        KEY auth_challenges_user (user_id),
        KEY auth_challenges_expiry (expires_at),
        CONSTRAINT auth_challenges_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
      ) ${TABLE}`,
    ],
  },
  {
    version: 3,
    name: 'proof-of-possession',
    // The device key a session is bound to (DPoP for tokens, DBSC for cookies), and short-lived
    // single-use marks (proof ids seen, nonces, challenges), swept in batches like expired sessions.
    statements: [
      `ALTER TABLE sessions
        ADD COLUMN binding_kind VARCHAR(8) NULL,
        ADD COLUMN binding_jkt VARCHAR(64) NULL,
        ADD COLUMN binding_key TEXT NULL`,
      `CREATE TABLE proof_marks (
        kind VARCHAR(16) NOT NULL,
        value VARCHAR(64) NOT NULL,
        expires_at BIGINT NOT NULL,
        PRIMARY KEY (kind, value),
        KEY proof_marks_expiry (expires_at)
      ) ${TABLE}`,
    ],
  },
  {
    version: 4,
    name: 'identities',
    // Accounts at identity providers (OpenID Connect, OAuth 2.0) linked to users, once each, and at
    // most one per provider per user; and the sessions opened through them (a back-channel logout
    // names the provider's session id or subject). Sessions may live in Redis: no foreign key to them.
    statements: [
      `CREATE TABLE identities (
        id VARCHAR(64) NOT NULL,
        user_id VARCHAR(255) NOT NULL,
        provider VARCHAR(32) NOT NULL,
        subject VARCHAR(255) NOT NULL,
        email VARCHAR(1024) NULL,
        email_verified TINYINT(1) NOT NULL,
        created_at BIGINT NOT NULL,
        last_used_at BIGINT NULL,
        PRIMARY KEY (id),
        UNIQUE KEY identities_subject (provider, subject),
        UNIQUE KEY identities_user_provider (user_id, provider),
        CONSTRAINT identities_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
      ) ${TABLE}`,
      `CREATE TABLE federated_sessions (
        session_id VARCHAR(255) NOT NULL,
        user_id VARCHAR(255) NOT NULL,
        provider VARCHAR(32) NOT NULL,
        subject VARCHAR(255) NOT NULL,
        sid VARCHAR(255) NULL,
        created_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        PRIMARY KEY (session_id),
        KEY federated_sessions_user (user_id),
        KEY federated_sessions_sid (provider, sid),
        KEY federated_sessions_subject (provider, subject),
        KEY federated_sessions_expiry (expires_at),
        CONSTRAINT federated_sessions_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
      ) ${TABLE}`,
    ],
  },
  {
    version: 5,
    name: 'admin',
    // The administrator role (the admin API and console), and what an admin's audit search filters
    // on besides user and time: event type and client address.
    statements: [
      'ALTER TABLE users ADD COLUMN is_admin TINYINT(1) NOT NULL DEFAULT 0',
      'CREATE INDEX audit_type ON audit_events (type, at)',
      'CREATE INDEX audit_ip ON audit_events (ip, id)',
    ],
  },
];

/** GET_LOCK names are server-wide and at most 64 characters: one per database. */
export function migrationLockName(database: string): string {
  return `gatehouse:migrate:${createHash('sha256').update(database).digest('hex').slice(0, 40)}`;
}

const LOCK_WAIT_SECONDS = 60;

/**
 * Brings the connected database up to date. A named lock (GET_LOCK) makes concurrent instances wait
 * for each other instead of racing on CREATE TABLE; it is held by this connection only and released
 * when the migration ends or the connection drops. Resolves the versions applied.
 */
export async function migrate(db: Db): Promise<number[]> {
  // DDL on a large table may run longer than the store's operation budget: no statement limit here.
  // The connection's session is changed here, so it is discarded afterwards rather than pooled.
  return db.withConnection(async (conn) => {
    const flavor = db.flavor ?? 'mysql';
    await conn.query(`SET SESSION ${flavor === 'mariadb' ? 'max_statement_time' : 'max_execution_time'} = 0, lock_wait_timeout = ${LOCK_WAIT_SECONDS}`);
    const [[db0]] = await conn.query<mysql.RowDataPacket[]>('SELECT DATABASE() AS name');
    const database = String(db0?.name ?? '');
    if (!database) throw new Error('the MySQL URL names no database (mysql://user:pass@host:3306/<database>)');
    const lock = migrationLockName(database);
    const [[got]] = await conn.query<mysql.RowDataPacket[]>('SELECT GET_LOCK(?, ?) AS ok', [lock, LOCK_WAIT_SECONDS]);
    if (Number(got?.ok) !== 1) throw new Error(`could not take the migration lock of database ${database} within ${LOCK_WAIT_SECONDS} s`);
    try {
      await conn.query(migrationSql(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version INT NOT NULL,
        name VARCHAR(255) NOT NULL,
        steps_done INT NOT NULL,
        applied_at BIGINT NULL,
        PRIMARY KEY (version)
      ) ${TABLE}`, flavor));
      const [rows] = await conn.query<mysql.RowDataPacket[]>('SELECT version, steps_done, applied_at FROM schema_migrations');
      const state = new Map(rows.map((r) => [Number(r.version), { steps: Number(r.steps_done), done: r.applied_at !== null }]));
      const applied: number[] = [];
      for (const m of MIGRATIONS) {
        const s = state.get(m.version);
        if (s?.done) continue;
        for (let i = s?.steps ?? 0; i < m.statements.length; i++) {
          await conn.query(migrationSql(m.statements[i]!, flavor));
          await conn.query(
            `INSERT INTO schema_migrations (version, name, steps_done, applied_at) VALUES (?, ?, ?, NULL)
             ON DUPLICATE KEY UPDATE steps_done = ?`,
            [m.version, m.name, i + 1, i + 1],
          );
        }
        await conn.query(
          `INSERT INTO schema_migrations (version, name, steps_done, applied_at) VALUES (?, ?, ?, ?)
           ON DUPLICATE KEY UPDATE steps_done = ?, applied_at = ?`,
          [m.version, m.name, m.statements.length, Date.now(), m.statements.length, Date.now()],
        );
        applied.push(m.version);
      }
      return applied;
    } finally {
      await conn.query('SELECT RELEASE_LOCK(?)', [lock]).catch(() => {});
    }
  }, { budgetMs: 10 * 60_000, discard: true });
}
