/**
 * Versioned schema for the SQLite store. Each migration runs once, in order, inside a transaction,
 * and is recorded in `schema_migrations`; running them again is a no-op. Never edit a released
 * migration: add a new version.
 */
import type Database from 'better-sqlite3';
import { openDatabase } from './db.js';

export interface Migration {
  version: number;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE users (
        id TEXT PRIMARY KEY,
        email TEXT NOT NULL,
        email_canonical TEXT NOT NULL UNIQUE,
        password_hash TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        disabled_at INTEGER,
        email_verified_at INTEGER
      ) STRICT;
      CREATE INDEX users_by_creation ON users (created_at, id);

      CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        secret_hash BLOB NOT NULL,
        mode TEXT NOT NULL CHECK (mode IN ('session', 'token')),
        created_at INTEGER NOT NULL,
        last_seen_at INTEGER NOT NULL,
        idle_expires_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        auth_at INTEGER NOT NULL,
        ip TEXT,
        device_browser TEXT,
        device_os TEXT,
        device_type TEXT
      ) STRICT;
      CREATE INDEX sessions_by_user ON sessions (user_id, mode, created_at);
      CREATE INDEX sessions_by_idle_expiry ON sessions (idle_expires_at);
      CREATE INDEX sessions_by_expiry ON sessions (expires_at);

      -- Apart from sessions so that touching a session never rewrites its data.
      CREATE TABLE session_data (
        session_id TEXT PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,
        data TEXT NOT NULL
      ) STRICT;

      CREATE TABLE refresh_tokens (
        id TEXT PRIMARY KEY,
        session_id TEXT NOT NULL,
        user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        secret_hash BLOB NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        spent_at INTEGER,
        successor_id TEXT,
        successor_salt BLOB
      ) STRICT;
      CREATE INDEX refresh_by_session ON refresh_tokens (session_id);
      CREATE INDEX refresh_by_user ON refresh_tokens (user_id);
      CREATE INDEX refresh_by_expiry ON refresh_tokens (expires_at);

      CREATE TABLE signing_keys (
        kid TEXT PRIMARY KEY,
        alg TEXT NOT NULL,
        public_jwk TEXT,
        private_jwk TEXT NOT NULL,
        encrypted INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        retired_at INTEGER,
        verify_until INTEGER
      ) STRICT;

      -- No foreign key: the trail outlives the accounts it mentions.
      CREATE TABLE audit_events (
        id TEXT PRIMARY KEY,
        at INTEGER NOT NULL,
        type TEXT NOT NULL,
        user_id TEXT,
        session_id TEXT,
        ip TEXT,
        user_agent TEXT,
        detail TEXT
      ) STRICT;
      CREATE INDEX audit_by_user ON audit_events (user_id, id);
      CREATE INDEX audit_by_time ON audit_events (at);

      CREATE TABLE one_time_tokens (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        purpose TEXT NOT NULL,
        secret_hash BLOB NOT NULL,
        binding TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        used_at INTEGER
      ) STRICT;
      CREATE INDEX one_time_by_user ON one_time_tokens (user_id, purpose);
      CREATE INDEX one_time_by_expiry ON one_time_tokens (expires_at);
    `,
  },
  {
    version: 2,
    sql: `
      -- The change feed between processes sharing one file (server, CLI, workers): revocations and
      -- key changes, polled by every process and replayed after a gap.
      CREATE TABLE change_log (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        at INTEGER NOT NULL,
        event TEXT NOT NULL
      ) STRICT;
      CREATE INDEX change_log_by_time ON change_log (at);
    `,
  },
  {
    version: 3,
    sql: `
      -- How each session was authenticated, and the user's credential version it was started under.
      -- Sessions from before this version were password sign-ins (or migrations) at one factor.
      ALTER TABLE users ADD COLUMN credential_version INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE sessions ADD COLUMN amr TEXT NOT NULL DEFAULT 'pwd';
      ALTER TABLE sessions ADD COLUMN acr TEXT NOT NULL DEFAULT 'aal1';
      ALTER TABLE sessions ADD COLUMN credential_version INTEGER NOT NULL DEFAULT 0;
    `,
  },
  {
    version: 4,
    sql: `
      -- Second factors and passkeys, and what an unfinished authentication waits on.
      CREATE TABLE totp_authenticators (
        user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
        secret TEXT NOT NULL,
        encrypted INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        confirmed_at INTEGER,
        last_step INTEGER
      ) STRICT;

      CREATE TABLE recovery_codes (
        user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        code_hash BLOB NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (user_id, code_hash)
      ) STRICT;

      CREATE TABLE passkeys (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        user_handle TEXT NOT NULL,
        public_key BLOB NOT NULL,
        counter INTEGER NOT NULL,
        transports TEXT NOT NULL,
        device_type TEXT NOT NULL,
        backed_up INTEGER NOT NULL,
        name TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        last_used_at INTEGER
      ) STRICT;
      CREATE INDEX passkeys_by_user ON passkeys (user_id, created_at);

      CREATE TABLE auth_challenges (
        id TEXT PRIMARY KEY,
        purpose TEXT NOT NULL,
        secret_hash BLOB NOT NULL,
        user_id TEXT REFERENCES users (id) ON DELETE CASCADE,
        binding TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        failures INTEGER NOT NULL,
        used_at INTEGER
      ) STRICT;
      CREATE INDEX auth_challenges_by_user ON auth_challenges (user_id);
      CREATE INDEX auth_challenges_by_expiry ON auth_challenges (expires_at);
    `,
  },
  {
    version: 5,
    sql: `
      -- Proof of possession: the device key a session is bound to (DPoP for tokens, DBSC for
      -- cookies), and short-lived single-use marks (proof ids seen, nonces, challenges).
      ALTER TABLE sessions ADD COLUMN binding_kind TEXT CHECK (binding_kind IN ('dpop', 'dbsc'));
      ALTER TABLE sessions ADD COLUMN binding_jkt TEXT;
      ALTER TABLE sessions ADD COLUMN binding_key TEXT;
      CREATE TABLE proof_marks (
        kind TEXT NOT NULL,
        value TEXT NOT NULL,
        expires_at INTEGER NOT NULL,
        PRIMARY KEY (kind, value)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX proof_marks_by_expiry ON proof_marks (expires_at);
    `,
  },
  {
    version: 6,
    sql: `
      -- Accounts at identity providers (OpenID Connect, OAuth 2.0) linked to users, once each, and
      -- at most one per provider per user; and the sessions opened through them (a back-channel
      -- logout names the provider's session id or subject). Sessions may live in Redis: no foreign key.
      CREATE TABLE identities (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        provider TEXT NOT NULL,
        subject TEXT NOT NULL,
        email TEXT,
        email_verified INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        last_used_at INTEGER,
        UNIQUE (provider, subject),
        UNIQUE (user_id, provider)
      ) STRICT;
      CREATE TABLE federated_sessions (
        session_id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        provider TEXT NOT NULL,
        subject TEXT NOT NULL,
        sid TEXT,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX federated_sessions_by_user ON federated_sessions (user_id);
      CREATE INDEX federated_sessions_by_sid ON federated_sessions (provider, sid);
      CREATE INDEX federated_sessions_by_subject ON federated_sessions (provider, subject);
      CREATE INDEX federated_sessions_by_expiry ON federated_sessions (expires_at);
    `,
  },
  {
    version: 7,
    sql: `
      -- The administrator role (the admin API and console), and what an admin's audit search filters
      -- on besides user and time: event type and client address.
      ALTER TABLE users ADD COLUMN is_admin INTEGER NOT NULL DEFAULT 0;
      CREATE INDEX audit_by_type ON audit_events (type, at);
      CREATE INDEX audit_by_ip ON audit_events (ip, id);
    `,
  },
];

/**
 * Applies every migration the database has not recorded yet, in version order. Resolves the versions
 * applied. Versions are checked one by one rather than against the highest applied, so a version
 * numbered below one already applied (developed in parallel, released later) still runs.
 */
export function applyMigrations(db: Database.Database, migrations: readonly Migration[] = MIGRATIONS): number[] {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
  const applied: number[] = [];
  const done = db.prepare<[number], { v: number }>('SELECT version AS v FROM schema_migrations WHERE version = ?');
  const record = db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)');
  // IMMEDIATE: two processes starting together serialise here instead of both migrating.
  const step = db.transaction((m: Migration) => {
    if (done.get(m.version)) return false;
    db.exec(m.sql);
    record.run(m.version, Date.now());
    return true;
  });
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    if (step.immediate(m)) applied.push(m.version);
  }
  return applied;
}

/**
 * Brings the database at `path` up to date and closes it (`gatehouse migrate`).
 *
 * @example
 *   const applied = migrateSqlite('./data/gatehouse.db'); // [1] on a new file, [] afterwards
 */
export function migrateSqlite(path: string): number[] {
  const db = openDatabase(path);
  try {
    return applyMigrations(db);
  } finally {
    db.close();
  }
}
