import type { Queryable } from './db.js';

/**
 * Versioned migrations. Append only: never edit a shipped entry, add a new version instead.
 * Each runs in the same transaction as its schema_migrations row.
 */
export const MIGRATIONS: { version: number; name: string; sql: string }[] = [
  {
    version: 1,
    name: 'initial',
    sql: `
CREATE TABLE users (
  id text PRIMARY KEY,
  email text NOT NULL,
  email_canonical text NOT NULL UNIQUE,
  password_hash text NOT NULL,
  created_at bigint NOT NULL,
  disabled_at bigint,
  email_verified_at bigint
);
CREATE INDEX users_created_idx ON users (created_at, id);

CREATE TABLE sessions (
  id text PRIMARY KEY,
  user_id text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  secret_hash bytea NOT NULL,
  mode text NOT NULL,
  created_at bigint NOT NULL,
  last_seen_at bigint NOT NULL,
  idle_expires_at bigint NOT NULL,
  expires_at bigint NOT NULL,
  auth_at bigint NOT NULL,
  ip text,
  device_browser text,
  device_os text,
  device_type text,
  data jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX sessions_user_idx ON sessions (user_id, created_at, id);
CREATE INDEX sessions_expiry_idx ON sessions ((LEAST(idle_expires_at, expires_at)));

CREATE TABLE refresh_tokens (
  id text PRIMARY KEY,
  session_id text NOT NULL,
  user_id text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  secret_hash bytea NOT NULL,
  created_at bigint NOT NULL,
  expires_at bigint NOT NULL,
  spent_at bigint,
  successor_id text,
  successor_salt bytea
);
CREATE INDEX refresh_tokens_session_idx ON refresh_tokens (session_id);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);
CREATE INDEX refresh_tokens_expiry_idx ON refresh_tokens (expires_at);

CREATE TABLE signing_keys (
  kid text PRIMARY KEY,
  alg text NOT NULL,
  public_jwk text,
  private_jwk text NOT NULL,
  encrypted boolean NOT NULL,
  created_at bigint NOT NULL,
  retired_at bigint,
  verify_until bigint
);

CREATE TABLE audit_events (
  id text PRIMARY KEY,
  at bigint NOT NULL,
  type text NOT NULL,
  user_id text,
  session_id text,
  ip text,
  user_agent text,
  detail jsonb
);
CREATE INDEX audit_events_user_idx ON audit_events (user_id, id);
CREATE INDEX audit_events_at_idx ON audit_events (at);

CREATE TABLE one_time_tokens (
  id text PRIMARY KEY,
  user_id text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  purpose text NOT NULL,
  secret_hash bytea NOT NULL,
  binding text NOT NULL,
  created_at bigint NOT NULL,
  expires_at bigint NOT NULL,
  used_at bigint
);
CREATE INDEX one_time_tokens_user_idx ON one_time_tokens (user_id, purpose);
CREATE INDEX one_time_tokens_expiry_idx ON one_time_tokens (expires_at);

CREATE TABLE change_log (
  seq bigserial PRIMARY KEY,
  at bigint NOT NULL,
  event text NOT NULL -- the published JSON text, byte for byte
);
CREATE INDEX change_log_at_idx ON change_log (at);
`,
  },
  {
    version: 2,
    name: 'session-authentication',
    // How each session was authenticated, and the user's credential version it was started under.
    // Sessions from before this version were password sign-ins (or migrations) at one factor.
    sql: `
ALTER TABLE users ADD COLUMN credential_version integer NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN amr text[] NOT NULL DEFAULT ARRAY['pwd']::text[];
ALTER TABLE sessions ADD COLUMN acr text NOT NULL DEFAULT 'aal1';
ALTER TABLE sessions ADD COLUMN credential_version integer NOT NULL DEFAULT 0;
`,
  },
  {
    version: 3,
    name: 'second-factors',
    // Second factors and passkeys, and what an unfinished authentication waits on.
    sql: `
CREATE TABLE totp_authenticators (
  user_id text PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  secret text NOT NULL,
  encrypted boolean NOT NULL,
  created_at bigint NOT NULL,
  confirmed_at bigint,
  last_step bigint
);

CREATE TABLE recovery_codes (
  user_id text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  code_hash bytea NOT NULL,
  created_at bigint NOT NULL,
  PRIMARY KEY (user_id, code_hash)
);

CREATE TABLE passkeys (
  id text PRIMARY KEY,
  user_id text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  user_handle text NOT NULL,
  public_key bytea NOT NULL,
  counter bigint NOT NULL,
  transports text[] NOT NULL,
  device_type text NOT NULL,
  backed_up boolean NOT NULL,
  name text NOT NULL,
  created_at bigint NOT NULL,
  last_used_at bigint
);
CREATE INDEX passkeys_user_idx ON passkeys (user_id, created_at);

CREATE TABLE auth_challenges (
  id text PRIMARY KEY,
  purpose text NOT NULL,
  secret_hash bytea NOT NULL,
  user_id text REFERENCES users (id) ON DELETE CASCADE,
  binding text NOT NULL,
  created_at bigint NOT NULL,
  expires_at bigint NOT NULL,
  failures integer NOT NULL,
  used_at bigint
);
CREATE INDEX auth_challenges_user_idx ON auth_challenges (user_id);
CREATE INDEX auth_challenges_expiry_idx ON auth_challenges (expires_at);
`,
  },
  {
    version: 4,
    name: 'proof-of-possession',
    // The device key a session is bound to (DPoP for tokens, DBSC for cookies), and short-lived
    // single-use marks (proof ids seen, nonces, challenges). The marks table is UNLOGGED: its rows
    // live seconds to minutes and need no crash safety, and a write then costs no WAL.
    sql: `
ALTER TABLE sessions ADD COLUMN binding_kind text CHECK (binding_kind IN ('dpop', 'dbsc'));
ALTER TABLE sessions ADD COLUMN binding_jkt text;
ALTER TABLE sessions ADD COLUMN binding_key text;
CREATE UNLOGGED TABLE proof_marks (
  kind text NOT NULL,
  value text NOT NULL,
  expires_at bigint NOT NULL,
  PRIMARY KEY (kind, value)
);
CREATE INDEX proof_marks_expiry_idx ON proof_marks (expires_at);
`,
  },
  {
    version: 5,
    name: 'identities',
    // Accounts at identity providers (OpenID Connect, OAuth 2.0) linked to users, once each, and at
    // most one per provider per user; and the sessions opened through them (a back-channel logout
    // names the provider's session id or subject). Sessions may live in Redis: no foreign key.
    sql: `
CREATE TABLE identities (
  id text PRIMARY KEY,
  user_id text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  provider text NOT NULL,
  subject text NOT NULL,
  email text,
  email_verified boolean NOT NULL,
  created_at bigint NOT NULL,
  last_used_at bigint,
  UNIQUE (provider, subject),
  UNIQUE (user_id, provider)
);
CREATE TABLE federated_sessions (
  session_id text PRIMARY KEY,
  user_id text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  provider text NOT NULL,
  subject text NOT NULL,
  sid text,
  created_at bigint NOT NULL,
  expires_at bigint NOT NULL
);
CREATE INDEX federated_sessions_user_idx ON federated_sessions (user_id);
CREATE INDEX federated_sessions_sid_idx ON federated_sessions (provider, sid);
CREATE INDEX federated_sessions_subject_idx ON federated_sessions (provider, subject);
CREATE INDEX federated_sessions_expiry_idx ON federated_sessions (expires_at);
`,
  },
  {
    version: 6,
    name: 'admin',
    // The administrator role (the admin API and console), and what an admin's audit search filters
    // on besides user and time: event type and client address.
    sql: `
ALTER TABLE users ADD COLUMN is_admin boolean NOT NULL DEFAULT false;
CREATE INDEX audit_events_type_idx ON audit_events (type, at);
CREATE INDEX audit_events_ip_idx ON audit_events (ip, id);
`,
  },
];

/**
 * Brings `schema` up to date. A transaction-scoped advisory lock keyed on the schema makes
 * concurrent instances wait for each other instead of racing on CREATE.
 */
export async function migrate(tx: (fn: (q: Queryable) => Promise<void>) => Promise<void>, schema: string): Promise<number[]> {
  const applied: number[] = [];
  await tx(async (q) => {
    await q.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [`gatehouse:migrate:${schema}`]);
    await q.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    await q.query(`SET LOCAL search_path = "${schema}"`);
    await q.query(`CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const { rows } = await q.query<{ version: number }>(`SELECT version FROM schema_migrations`);
    const done = new Set(rows.map((r) => Number(r.version)));
    for (const m of MIGRATIONS) {
      if (done.has(m.version)) continue;
      await q.query(m.sql);
      await q.query(`INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, [m.version, m.name]);
      applied.push(m.version);
    }
  });
  return applied;
}
