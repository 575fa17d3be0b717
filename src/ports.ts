/**
 * The ports: everything the core needs from the outside world, as plain types.
 *
 * Stores are domain-shaped and promise-only. Every method is required. Times are epoch milliseconds.
 * Secrets never cross a port in clear: sessions, refresh tokens and one-time tokens carry
 * `secretHash` (SHA-256 of the secret part of the token, 32 bytes); the core compares in constant time.
 *
 * One contract suite (test/contract/suite.ts) runs against every implementation.
 */

export type SessionMode = 'session' | 'token';

// ---------------------------------------------------------------------------------------------
// Users
// ---------------------------------------------------------------------------------------------

export interface UserRecord {
  /** Opaque random id (base64url). */
  id: string;
  /** The address as the user typed it, trimmed and NFC-normalised; shown back to them. */
  email: string;
  /** The canonical form used for uniqueness and lookup (see core/email.ts). */
  emailCanonical: string;
  /** An encoded argon2id hash (PHC string). */
  passwordHash: string;
  createdAt: number;
  /** When the user was disabled, or null. A disabled user cannot sign in and has no live session. */
  disabledAt: number | null;
  emailVerifiedAt: number | null;
  /**
   * Incremented by every change of what proves or permits the user (a new password, disabling,
   * re-enabling). A session records the version it was started under; one started under another
   * version is dead, so no interleaving of a login with a password change leaves a live session
   * minted from the old password.
   */
  credentialVersion: number;
  /**
   * Holds the administrator role: may use the admin API (`/admin/api`) and console. Granted and
   * revoked from the command line only (`gatehouse user grant-admin` / `revoke-admin`).
   */
  admin: boolean;
}

/** Who an admin search finds: `active` (enabled, verified), `unverified` (enabled, not verified), `disabled`. */
export type UserStatus = 'active' | 'unverified' | 'disabled';

export interface UserSearchQuery {
  /** Canonical email starts with this (already in canonical form; matched literally, no wildcards). */
  emailPrefix?: string;
  status?: UserStatus;
  /** createdAt at or after. */
  createdFrom?: number;
  /** createdAt before. */
  createdTo?: number;
  /** Keyset cursor: the (createdAt, id) of the last user of the previous page. */
  after?: { createdAt: number; id: string };
  limit: number;
}

export interface UserStore {
  /** Inserts the user. Resolves false when the canonical email is already taken (no exception). */
  createUser(user: UserRecord): Promise<boolean>;
  getUserById(id: string): Promise<UserRecord | null>;
  getUserByEmail(emailCanonical: string): Promise<UserRecord | null>;
  /** Users ordered by createdAt then id; `after` is the id of the last user of the previous page. */
  listUsers(opts: { limit: number; after?: string }): Promise<UserRecord[]>;
  /**
   * Users matching every given filter, ordered by createdAt then id, strictly after `after`. A cursor
   * whose user was deleted meanwhile still continues where it was (it is a position, not a user).
   */
  searchUsers(query: UserSearchQuery): Promise<UserRecord[]>;
  /** Grants or revokes the administrator role. Resolves false when there is no such user. */
  setAdmin(id: string, admin: boolean): Promise<boolean>;
  /**
   * Sets a new password and increments credentialVersion, atomically. Resolves the new
   * credentialVersion, or null when there is no such user.
   */
  setPasswordHash(id: string, passwordHash: string): Promise<number | null>;
  /**
   * Replaces the hash of the same password (new hashing parameters) only if the stored hash is still
   * `expected`; credentialVersion is unchanged. Resolves false when it changed meanwhile.
   */
  rehashPassword(id: string, expected: string, passwordHash: string): Promise<boolean>;
  /** Sets or clears disabledAt and increments credentialVersion, atomically. */
  setDisabled(id: string, disabledAt: number | null): Promise<boolean>;
  markEmailVerified(id: string, at: number): Promise<boolean>;
  /** Resolves 'taken' when another user holds the canonical email. Clears emailVerifiedAt to `verifiedAt`. */
  changeEmail(id: string, email: string, emailCanonical: string, verifiedAt: number | null): Promise<'ok' | 'missing' | 'taken'>;
  deleteUser(id: string): Promise<boolean>;
}

// ---------------------------------------------------------------------------------------------
// Sessions: one record per login, in either mode
// ---------------------------------------------------------------------------------------------

export interface DeviceInfo {
  browser: string | null;
  os: string | null;
  /** 'desktop' | 'mobile' | 'tablet' | 'tv' | 'bot' | null */
  type: string | null;
}

export interface SessionRecord {
  /** Public handle and the id half of the session token. Never the secret. */
  id: string;
  userId: string;
  /** SHA-256 of the secret half of the token. Token-mode sessions have no bearer secret: 32 zero bytes. */
  secretHash: Uint8Array;
  mode: SessionMode;
  createdAt: number;
  lastSeenAt: number;
  /** Sliding expiry: pushed forward on use, at most once per renewal interval. */
  idleExpiresAt: number;
  /** Absolute expiry: never moves. */
  expiresAt: number;
  /** Last time the user proved who they are in this session (login or step-up): `auth_time`. */
  authAt: number;
  /** How the user authenticated (RFC 8176 values, e.g. `["pwd"]`, `["pwd","otp","mfa"]`). */
  amr: string[];
  /** The assurance level reached: `aal1` (one factor) or `aal2` (two factors, or a verified passkey). */
  acr: AssuranceLevel;
  /** The user's credentialVersion when the session started (see UserRecord). */
  credentialVersion: number;
  ip: string | null;
  device: DeviceInfo;
  /** The device key the session's credentials are bound to (proof of possession), or null. */
  binding: SessionBinding | null;
}

/**
 * A session bound to a key its device holds. `jkt` is the key's RFC 7638 thumbprint (SHA-256,
 * base64url, 43 characters).
 * - `dpop` (token mode, RFC 9449): the access and refresh tokens are usable only with a proof signed
 *   by that key; the key itself stays with the client (each proof carries it).
 * - `dbsc` (cookie mode, W3C Device Bound Session Credentials): the browser registered `key` (its
 *   public JWK as JSON), and the short-lived bound cookie is renewed only with a proof signed by it.
 */
export type SessionBinding = { kind: 'dpop'; jkt: string } | { kind: 'dbsc'; jkt: string; key: string };

export type AssuranceLevel = 'aal1' | 'aal2';

/**
 * What a step-up changes on a live session. `credentialVersion` moves when the step-up is the user
 * setting a new password from this session (the session carries on under the new credentials).
 */
export interface SessionAuth {
  authAt: number;
  amr: string[];
  acr: AssuranceLevel;
  credentialVersion: number;
}

export type SessionDataValue = string | number | boolean | null | SessionDataValue[] | { [k: string]: SessionDataValue };
export type SessionData = Record<string, SessionDataValue>;

export interface SessionDataPatch {
  set: SessionData;
  unset: string[];
}

export interface CreateSessionOptions {
  /**
   * After inserting, keep at most this many live sessions of the same user and mode, evicting the
   * oldest (by createdAt) first; atomic with the insert. The new session is never evicted.
   */
  maxPerUser: number;
}

export interface SessionStore {
  /** Inserts the session and applies the per-user limit atomically. Resolves the evicted records. */
  createSession(session: SessionRecord, opts: CreateSessionOptions): Promise<SessionRecord[]>;
  /** The session, or null when unknown or expired (idle or absolute) at `now`. */
  getSession(id: string, now: number): Promise<SessionRecord | null>;
  /** Records use: moves lastSeenAt and idleExpiresAt forward (never backward, never past expiresAt). */
  touchSession(id: string, lastSeenAt: number, idleExpiresAt: number): Promise<boolean>;
  /** Records a step-up: the new auth time, methods and level. */
  setSessionAuth(id: string, auth: SessionAuth): Promise<boolean>;
  /**
   * Binds a live, unbound session to a device key, atomically: 'bound' when it already has a
   * binding (a binding is never replaced), 'missing' when there is no such session.
   */
  bindSession(id: string, binding: SessionBinding): Promise<'ok' | 'missing' | 'bound'>;
  /** Live sessions of a user at `now`, oldest first. */
  listSessionsByUser(userId: string, now: number): Promise<SessionRecord[]>;
  /** Deletes one session (and its data). Resolves the deleted record, or null. */
  deleteSession(id: string): Promise<SessionRecord | null>;
  /** Deletes every session of a user except `exceptId`. Resolves the deleted ids. */
  deleteUserSessions(userId: string, exceptId?: string): Promise<string[]>;
  /** Removes expired sessions (a no-op for stores that expire by TTL). Resolves how many. */
  deleteExpiredSessions(now: number): Promise<number>;
  /**
   * Live sessions at `now`, per mode: what the active-sessions metric samples and the admin console shows (at most once per
   * interval, never per request). May read every session: it is an operator's figure, not a hot path.
   */
  countLiveSessions(now: number): Promise<Record<SessionMode, number>>;
  /** The session's application data ({} when none), or null when the session is gone. */
  getSessionData(id: string): Promise<SessionData | null>;
  /**
   * Applies a per-key patch atomically: keys not named in the patch are left as they are, so two
   * concurrent patches of different keys never overwrite each other. Refuses a result larger than
   * `maxBytes` (UTF-8 bytes of its JSON) without writing anything.
   */
  patchSessionData(id: string, patch: SessionDataPatch, maxBytes: number): Promise<'ok' | 'missing' | 'too_large'>;
}

// ---------------------------------------------------------------------------------------------
// Refresh tokens (token mode): opaque, hashed, rotated on every use
// ---------------------------------------------------------------------------------------------

export interface RefreshTokenRecord {
  id: string;
  sessionId: string;
  userId: string;
  secretHash: Uint8Array;
  createdAt: number;
  /** Idle expiry of this token (bounded by the session's absolute expiry). */
  expiresAt: number;
  /** When it was spent by a rotation, or null while live. */
  spentAt: number | null;
  /** The token that replaced it. */
  successorId: string | null;
  /** Per-rotation salt from which the successor's secret is derived (see core/refresh.ts). */
  successorSalt: Uint8Array | null;
}

export type RotateResult =
  | { kind: 'rotated'; token: RefreshTokenRecord }
  | { kind: 'grace'; token: RefreshTokenRecord }
  | { kind: 'reused'; token: RefreshTokenRecord }
  | { kind: 'missing' };

export interface RefreshTokenStore {
  createRefreshToken(token: RefreshTokenRecord): Promise<void>;
  getRefreshToken(id: string): Promise<RefreshTokenRecord | null>;
  /**
   * Atomically spends token `id` and inserts `successor`:
   * - live token: marks it spent at `now` with successorId/successorSalt, inserts successor → 'rotated';
   * - spent at most `graceMs` ago: inserts nothing → 'grace' with the spent record (so the caller can
   *   derive the same successor);
   * - spent earlier → 'reused'; unknown → 'missing'.
   * Concurrent calls on one token never insert two successors.
   * `successorSalt` is stored on the spent token (its successorSalt field) on 'rotated'.
   * Every result but 'missing' carries token `id` as stored after the call (the spent record).
   */
  rotateRefreshToken(
    id: string,
    successor: RefreshTokenRecord,
    now: number,
    graceMs: number,
    successorSalt?: Uint8Array | null,
  ): Promise<RotateResult>;
  deleteRefreshTokensBySession(sessionId: string): Promise<number>;
  deleteRefreshTokensByUser(userId: string): Promise<number>;
  deleteExpiredRefreshTokens(now: number): Promise<number>;
}

// ---------------------------------------------------------------------------------------------
// Signing keys
// ---------------------------------------------------------------------------------------------

export type SigningAlg = 'EdDSA' | 'ES256' | 'RS256' | 'HS256';

export interface KeyRecord {
  kid: string;
  alg: SigningAlg;
  /** Public JWK as JSON text; null for a symmetric (HS256) key, which is never published. */
  publicJwk: string | null;
  /** Private (or symmetric) JWK as JSON text, or its AES-256-GCM envelope when `encrypted`. */
  privateJwk: string;
  encrypted: boolean;
  createdAt: number;
  /** When it stopped signing (rotation), or null while it is the signing key. */
  retiredAt: number | null;
  /** After this time it no longer verifies and leaves the JWKS. Null: no limit yet. */
  verifyUntil: number | null;
}

export interface KeyStore {
  listKeys(): Promise<KeyRecord[]>;
  addKey(key: KeyRecord): Promise<void>;
  retireKey(kid: string, retiredAt: number, verifyUntil: number): Promise<boolean>;
  deleteKey(kid: string): Promise<boolean>;
}

// ---------------------------------------------------------------------------------------------
// Audit trail: append-only
// ---------------------------------------------------------------------------------------------

export type AuditEventType =
  | 'user.registered'
  | 'user.registration_repeated'
  | 'login.succeeded'
  | 'login.failed'
  | 'logout'
  | 'refresh'
  | 'refresh.reuse_detected'
  | 'session.revoked'
  | 'session.evicted'
  | 'sessions.revoked_others'
  | 'sessions.revoked_all'
  | 'reauth.succeeded'
  | 'reauth.failed'
  | 'password.changed'
  | 'password.reset_requested'
  | 'password.reset'
  | 'email.verification_sent'
  | 'email.verified'
  | 'email.change_requested'
  | 'email.changed'
  | 'mail.failed'
  | 'user.disabled'
  | 'user.enabled'
  | 'account.deleted'
  | 'session.migrated'
  | 'mfa.required'
  | 'mfa.failed'
  | 'totp.enrolled'
  | 'totp.removed'
  | 'recovery_codes.generated'
  | 'recovery_code.used'
  | 'passkey.added'
  | 'passkey.renamed'
  | 'passkey.removed'
  | 'passkey.failed'
  | 'mfa.reset'
  /** A cookie session was bound to the browser's key (DBSC registration). */
  | 'session.bound'
  /** A bound session's credential came without a valid proof of its key: possible theft. */
  | 'session.proof_refused'
  /** An identity-provider account was linked to the user, or unlinked. */
  | 'identity.linked'
  | 'identity.unlinked'
  /** The administrator role was granted or revoked (command line). */
  | 'admin.granted'
  | 'admin.revoked';

export interface AuditEvent {
  /** Sortable unique id (time-ordered); doubles as the pagination cursor. */
  id: string;
  at: number;
  type: AuditEventType;
  userId: string | null;
  sessionId: string | null;
  ip: string | null;
  userAgent: string | null;
  /**
   * Small, secret-free details: a failure reason category, a count, an evicted session handle. An
   * action an administrator took on a user's account carries their user id as `actor`.
   */
  detail: Record<string, string | number | boolean | null> | null;
}

export interface AuditQuery {
  userId?: string;
  since?: number;
  /** Return events older than this event id (cursor from the previous page). */
  before?: string;
  /** Only events of these types (an empty list matches none). */
  types?: AuditEventType[];
  /** Only events from this client address (exact match). */
  ip?: string;
  /** Only events before this time. */
  until?: number;
  limit: number;
}

export interface AuditLog {
  appendEvent(event: AuditEvent): Promise<void>;
  /** Newest first; every given filter applies. */
  listEvents(query: AuditQuery): Promise<AuditEvent[]>;
  /** How many events of each of `types` happened at or after `since` (types without any: 0). */
  countEvents(since: number, types: AuditEventType[]): Promise<Partial<Record<AuditEventType, number>>>;
  /** Retention: deletes events older than `at`. Resolves how many. */
  deleteEventsBefore(at: number): Promise<number>;
  /**
   * Erasure on account deletion: clears the IP address and user agent of every event of `userId`
   * (the events stay, naming only the account id). Resolves how many were changed.
   */
  redactUserEvents(userId: string): Promise<number>;
}

// ---------------------------------------------------------------------------------------------
// One-time tokens: email verification, password reset, email change
// ---------------------------------------------------------------------------------------------

export type OneTimePurpose = 'verify_email' | 'password_reset' | 'email_change';

export interface OneTimeTokenRecord {
  id: string;
  userId: string;
  purpose: OneTimePurpose;
  secretHash: Uint8Array;
  /** Binds the token to account state (e.g. a hash of the password hash, or the pending email). */
  binding: string;
  createdAt: number;
  expiresAt: number;
  usedAt: number | null;
}

export interface OneTimeTokenStore {
  createOneTimeToken(token: OneTimeTokenRecord): Promise<void>;
  getOneTimeToken(id: string): Promise<OneTimeTokenRecord | null>;
  /** Marks it used if unused and unexpired at `now`. Exactly one of concurrent callers gets true. */
  consumeOneTimeToken(id: string, now: number): Promise<boolean>;
  deleteOneTimeTokensByUser(userId: string, purpose?: OneTimePurpose): Promise<number>;
  deleteExpiredOneTimeTokens(now: number): Promise<number>;
}

// ---------------------------------------------------------------------------------------------
// Second factors and passkeys: what the TOTP, recovery-code and passkey ways in keep
// ---------------------------------------------------------------------------------------------

/** A user's TOTP authenticator (RFC 6238), pending until a first code confirms it. */
export interface TotpRecord {
  userId: string;
  /** The shared secret's AES-256-GCM envelope when `encrypted` (GATEHOUSE_SECRET set), else base32. */
  secret: string;
  encrypted: boolean;
  createdAt: number;
  /** When a first code confirmed it; null while pending (a pending authenticator proves nothing). */
  confirmedAt: number | null;
  /** The last accepted time step (unix time / 30 s): a code of this step or an earlier one is refused. */
  lastStep: number | null;
}

export interface TotpStore {
  /** Stores a pending authenticator, replacing a pending one. Resolves false when a confirmed one exists. */
  putPendingTotp(rec: TotpRecord): Promise<boolean>;
  getTotp(userId: string): Promise<TotpRecord | null>;
  /** Confirms the pending authenticator with the step of the code that confirmed it. False when none is pending. */
  confirmTotp(userId: string, at: number, step: number): Promise<boolean>;
  /**
   * Records `step` as used if the confirmed authenticator's lastStep is below it: exactly one of
   * concurrent callers with one step gets true, and an older step is refused (replay protection).
   */
  useTotpStep(userId: string, step: number): Promise<boolean>;
  deleteTotp(userId: string): Promise<boolean>;
}

export interface RecoveryCodeStore {
  /** Replaces every recovery code of the user with these (SHA-256 hashes of the codes). */
  replaceRecoveryCodes(userId: string, hashes: Uint8Array[], at: number): Promise<void>;
  /** Spends the code with this hash, if the user has it unused. Exactly one of concurrent callers gets true. */
  useRecoveryCode(userId: string, hash: Uint8Array, at: number): Promise<boolean>;
  /** Unused codes left. */
  countRecoveryCodes(userId: string): Promise<number>;
  deleteRecoveryCodes(userId: string): Promise<number>;
}

/** A WebAuthn credential (passkey) registered to a user. */
export interface PasskeyRecord {
  /** The credential id (base64url), unique across users. */
  id: string;
  userId: string;
  /** The WebAuthn user handle (base64url) the credential was created for. */
  userHandle: string;
  /** COSE public key bytes. */
  publicKey: Uint8Array;
  /** Signature counter last seen (0 for authenticators that keep none). */
  counter: number;
  transports: string[];
  /** 'singleDevice' (bound to one authenticator) or 'multiDevice' (synced). */
  deviceType: 'singleDevice' | 'multiDevice';
  backedUp: boolean;
  name: string;
  createdAt: number;
  lastUsedAt: number | null;
}

export interface PasskeyStore {
  /** Inserts the credential. Resolves false when a credential with that id exists (for any user). */
  createPasskey(rec: PasskeyRecord): Promise<boolean>;
  getPasskey(id: string): Promise<PasskeyRecord | null>;
  /** The user's passkeys, oldest first. */
  listPasskeys(userId: string): Promise<PasskeyRecord[]>;
  /**
   * Records a use: sets counter and lastUsedAt only if the stored counter is still `expected`, so two
   * concurrent uses of one counter value cannot both pass. Resolves false otherwise.
   */
  recordPasskeyUse(id: string, expected: number, counter: number, at: number): Promise<boolean>;
  renamePasskey(userId: string, id: string, name: string): Promise<boolean>;
  deletePasskey(userId: string, id: string): Promise<boolean>;
  deletePasskeysByUser(userId: string): Promise<number>;
}

/**
 * What an unfinished authentication waits on: an `mfa_token` between a password and its second
 * factor, or a WebAuthn ceremony's challenge. Single use, short-lived, stored hashed.
 */
export type ChallengePurpose = 'mfa' | 'webauthn.register' | 'webauthn.login' | 'webauthn.reauth' | 'webauthn.mfa' | 'oidc.flow' | 'oidc.exchange';

export interface ChallengeRecord {
  id: string;
  purpose: ChallengePurpose;
  /** SHA-256 of the secret (the mfa_token's secret half, or the WebAuthn challenge). */
  secretHash: Uint8Array;
  /** The user it is bound to; null for a discoverable (username-less) passkey sign-in. */
  userId: string | null;
  /** What else it is bound to (the login's mode and credential version, the session, the mfa_token). */
  binding: string;
  createdAt: number;
  expiresAt: number;
  /** Wrong answers so far. */
  failures: number;
  /** When it was spent (or killed by too many failures); null while live. */
  usedAt: number | null;
}

export interface ChallengeStore {
  createChallenge(rec: ChallengeRecord): Promise<void>;
  getChallenge(id: string): Promise<ChallengeRecord | null>;
  /** Spends it if live (unused, unexpired at `now`). Exactly one of concurrent callers gets true. */
  consumeChallenge(id: string, now: number): Promise<boolean>;
  /**
   * Counts one wrong answer on a live challenge; the one that reaches `maxFailures` also spends it.
   * Resolves the failures after the call, or null when it was not live.
   */
  failChallenge(id: string, maxFailures: number, now: number): Promise<number | null>;
  deleteChallengesByUser(userId: string): Promise<number>;
  deleteExpiredChallenges(now: number): Promise<number>;
}

// ---------------------------------------------------------------------------------------------
// Linked identities: what the identity-provider way in (OpenID Connect, OAuth 2.0) keeps
// ---------------------------------------------------------------------------------------------

/** An account at an identity provider linked to a user: `(provider, subject)` names it, once. */
export interface IdentityRecord {
  /** Opaque random id (base64url): the handle the user unlinks it by. */
  id: string;
  userId: string;
  /** The configured provider id (e.g. `google`). */
  provider: string;
  /** The provider's stable id of the account (`sub`, or the mapped id claim). */
  subject: string;
  /** The address the provider gave when it was last used, and whether the provider said it is verified. */
  email: string | null;
  emailVerified: boolean;
  createdAt: number;
  lastUsedAt: number | null;
}

/**
 * A session opened through a provider, with the provider's own session id (`sid`) when it gave one:
 * what a back-channel logout names, and what the device list shows.
 */
export interface FederatedSessionRecord {
  sessionId: string;
  userId: string;
  provider: string;
  subject: string;
  sid: string | null;
  createdAt: number;
  /** The session's absolute expiry: after it the record is swept. */
  expiresAt: number;
}

export interface IdentityStore {
  /**
   * Links the identity. 'taken' when `(provider, subject)` is linked to any user already, or when the
   * user has an identity at that provider: exactly one of concurrent links of one identity succeeds.
   */
  createIdentity(rec: IdentityRecord): Promise<'ok' | 'taken'>;
  getIdentity(provider: string, subject: string): Promise<IdentityRecord | null>;
  /** The user's identities, oldest first. */
  listIdentities(userId: string): Promise<IdentityRecord[]>;
  /** Records a sign-in with it: lastUsedAt and the email the provider gave this time. */
  recordIdentityUse(id: string, at: number, email: string | null, emailVerified: boolean): Promise<boolean>;
  /**
   * Unlinks one of the user's identities. With `unlessLast`, refuses ('last') when it is the user's
   * only identity, atomically: two concurrent unlinks of a user's last two identities leave one.
   */
  deleteIdentity(userId: string, id: string, unlessLast: boolean): Promise<'ok' | 'missing' | 'last'>;
  deleteIdentitiesByUser(userId: string): Promise<number>;
  putFederatedSession(rec: FederatedSessionRecord): Promise<void>;
  /** The user's federated sessions (live or not yet swept). */
  listFederatedSessions(userId: string): Promise<FederatedSessionRecord[]>;
  /** Sessions opened through `provider` with that provider session id, or for that subject. */
  findFederatedSessions(provider: string, by: { sid: string } | { subject: string }): Promise<FederatedSessionRecord[]>;
  deleteExpiredFederatedSessions(now: number): Promise<number>;
}

// ---------------------------------------------------------------------------------------------
// Proof-of-possession marks: short-lived, single-use values shared by every instance
// ---------------------------------------------------------------------------------------------

/**
 * - `jti`: a proof id already seen (DPoP replay detection, kept for the proof's acceptance window);
 * - `nonce`: a DPoP server nonce this deployment issued;
 * - `challenge`: a DBSC challenge handed to one session, answered at most once.
 * Values are hashes made by the core (base64url, at most 64 characters), never client input as is.
 */
export type ProofMarkKind = 'jti' | 'nonce' | 'challenge';

export interface ProofMarkStore {
  /** Records the mark until `expiresAt` unless a live one exists. True when it was recorded now: exactly one of concurrent callers. */
  putProofMark(kind: ProofMarkKind, value: string, expiresAt: number, now: number): Promise<boolean>;
  /** Whether a live mark exists at `now`. */
  hasProofMark(kind: ProofMarkKind, value: string, now: number): Promise<boolean>;
  /** Removes a live mark. True for exactly one of concurrent callers; false when there was none (or it expired). */
  takeProofMark(kind: ProofMarkKind, value: string, now: number): Promise<boolean>;
  /** Removes expired marks (a no-op for stores that expire by TTL). Resolves how many. */
  deleteExpiredProofMarks(now: number): Promise<number>;
}

// ---------------------------------------------------------------------------------------------
// Mail: verification, password reset and email-change messages
// ---------------------------------------------------------------------------------------------

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
}

/** Delivers one message or rejects; retries and backoff are the caller's (see mail/outbox.ts). */
export interface Mailer {
  send(msg: MailMessage): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Change feed: how every instance hears of revocations and key changes
// ---------------------------------------------------------------------------------------------

export type ChangeEvent =
  | { type: 'sessions.revoked'; ids: string[]; at: number }
  | { type: 'keys.changed'; at: number }
  /** A user's profile changed (email, disabled, deleted): drop cached copies of it. */
  | { type: 'user.changed'; userId: string; at: number };

export interface ChangeFeedHandlers {
  event(e: ChangeEvent): void;
  /** Connected (true) or lost (false). After a reconnect the core replays what it missed. */
  status(connected: boolean): void;
}

export interface ChangeFeed {
  /** Records the event durably (for replay) and delivers it to every subscriber, this process included. */
  publish(e: ChangeEvent): Promise<void>;
  subscribe(handlers: ChangeFeedHandlers): () => void;
  /** Events published at or after `since` that are still retained (at least `retentionMs`). */
  replay(since: number): Promise<ChangeEvent[]>;
  /** Whether events are currently being delivered. */
  readonly connected: boolean;
  /** How long published events stay replayable (ms). The core refuses to start on a feed that forgets sooner than a revocation must hold. */
  readonly retentionMs: number;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Legacy sessions: another library's session store, read once per old session while moving users over
// ---------------------------------------------------------------------------------------------

/** What an old session store holds under one session id. */
export type LegacyEntry =
  /** A live old session: its data, its own expiry (null: none known), and an opaque version for `claim`. */
  | { kind: 'session'; data: Record<string, unknown>; expiresAt: number | null; version: string }
  /**
   * Already claimed by a migration: `sessionId` is null while the new session is being created.
   * `seal` is what the migration stored with the replacement (a MAC over it), null when absent: old
   * session data can hold anything, including something shaped like a marker.
   */
  | { kind: 'migrated'; claimId: string; sessionId: string | null; userId: string | null; at: number; seal: string | null };

/**
 * An old session store (connect-redis, connect-pg-simple, connect-mongo…) as migration needs it:
 * read an entry, claim it atomically, record what replaced it, and count what is left.
 */
export interface LegacySessionSource {
  /** The entry under `sid` at `now`, or null when there is none (unknown, expired, or long since migrated). */
  read(sid: string, now: number): Promise<LegacyEntry | null>;
  /**
   * Atomically replaces the session, if it is still at `version`, with a marker naming `claimId` that
   * lives `holdMs`. Exactly one of concurrent callers gets true; the old session is gone from then on.
   */
  claim(sid: string, version: string, claimId: string, holdMs: number, now: number): Promise<boolean>;
  /** Records on the marker (if it is still `claimId`'s) the session that replaced it and its seal, for `holdMs`. */
  complete(sid: string, claimId: string, replacement: { sessionId: string; userId: string; at: number; seal: string }, holdMs: number): Promise<void>;
  /** Puts the old session back (if the marker is still `claimId`'s): the replacement could not be made. */
  release(sid: string, claimId: string): Promise<void>;
  /** How many old sessions are left (markers excluded). */
  remaining(): Promise<number>;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Clock and randomness: injected so expiry and rotation are tested without sleeping
// ---------------------------------------------------------------------------------------------

export interface Clock {
  now(): number;
}

/** argon2id parameters of one hash (memory in KiB, iterations, lanes). */
export interface Argon2Cost {
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

/**
 * Where argon2id runs. The core's default runs it in this process (libuv's thread pool); the
 * composition root injects a pool of low-priority threads with admission control
 * (src/hashing/pool.ts). A pool too busy to start the work within its bound rejects at once with
 * GatehouseError `password_hashing_busy` (with `retryAfter`); any other rejection is a failure to hash.
 */
export interface PasswordHashEngine {
  /** An encoded argon2id hash (PHC string) of `password` with a fresh salt. */
  hash(password: string, cost: Argon2Cost): Promise<string>;
  /** Whether `password` matches the encoded hash; rejects on an unreadable hash. */
  verify(encoded: string, password: string): Promise<boolean>;
}

export interface Random {
  bytes(n: number): Uint8Array;
}

/** Everything the core needs from storage, as one bundle a store module builds. */
export interface Stores {
  users: UserStore;
  sessions: SessionStore;
  refreshTokens: RefreshTokenStore;
  keys: KeyStore;
  audit: AuditLog;
  oneTimeTokens: OneTimeTokenStore;
  totp: TotpStore;
  recoveryCodes: RecoveryCodeStore;
  passkeys: PasskeyStore;
  challenges: ChallengeStore;
  /** Linked identity-provider accounts and the sessions opened through them. */
  identities: IdentityStore;
  /** Proof-of-possession marks (DPoP replay and nonces, DBSC challenges); on Redis when it is configured. */
  proofs: ProofMarkStore;
  feed: ChangeFeed;
  /** Store-level liveness for /healthz. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
