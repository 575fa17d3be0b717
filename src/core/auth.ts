/**
 * The core, assembled: the parts (stores behind caches, the key ring, the revocation set, the
 * hasher, the trail) are built here and kept private; callers get use cases, each with the narrow
 * operations it needs:
 *
 * - `signIn`     ways in that start a session (password, password + second factor, passkey)
 * - `sessions`   what a request needs: authenticate either transport, refresh, logout, session data
 * - `account`    what a signed-in user does: devices, step-up, password change, deletion, own events
 * - `factors`    a signed-in user's second factors: authenticator app, recovery codes, passkeys
 * - `lifecycle`  registration, email verification, password reset, email change
 * - `admin`      what an operator does: users, keys, the trail, sweeps
 * - `published`  what other services read: the JWKS and the revocation list
 * - `migration`  the express-session way in, built on demand from its settings
 *
 * Transport-free: the HTTP layer calls these and maps results and GatehouseErrors to HTTP.
 */
import type { GatehouseConfig } from '../config.js';
import type { Clock, PasswordHashEngine, Random, SessionMode, Stores } from '../ports.js';
import { Account } from './account.js';
import { Admin } from './admin.js';
import { Assurance } from './assurance.js';
import { Challenges } from './challenges.js';
import { SecondFactors } from './factors.js';
import { Audit } from './audit.js';
import { hmacSha256 } from './crypto.js';
import { DeviceBoundSessions } from './dbsc.js';
import { Dpop } from './dpop.js';
import { Federation } from './federation.js';
import { normalizeEmail } from './email.js';
import { KeyRing } from './keys.js';
import { Lifecycle, type MailQueue } from './lifecycle.js';
import { Sweeper, type SweepResult } from './maintenance.js';
import { LegacyMigration, userFieldMapper, type MigrationSettings } from './methods/migration.js';
import { OidcMethod } from './methods/oidc.js';
import { PasskeyMethod, type WebAuthnSettings } from './methods/passkey.js';
import { PasswordMethod } from './methods/password.js';
import { RecoveryCodes } from './methods/recovery.js';
import { TotpMethod } from './methods/totp.js';
import { PasswordHasher } from './passwords.js';
import { AccountRemoval } from './removal.js';
import { RevocationSet, type RevocationSnapshot } from './revocations.js';
import { SessionControl } from './session-control.js';
import { SessionManager, type SessionTimes } from './sessions.js';
import { SignIn } from './sign-in.js';
import { AccessTokens, type ClaimsHook } from './tokens.js';
import { RefreshTokens } from './refresh.js';
import { UserDirectory } from './users.js';
import { noTelemetry, type Telemetry } from './telemetry.js';

export type { AuthContext, TokenGrant, Started, StartSession, StartOutcome, PopRefusal, TokenPresentation, DeviceRefresh } from './session-control.js';
export { isPopRefusal } from './session-control.js';
export type { Dpop, DpopRequest, DpopOutcome, DpopMode } from './dpop.js';
export type { LoginResult, LoginFailure } from './sign-in.js';

export interface CoreLogger {
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface CoreDeps {
  config: GatehouseConfig;
  stores: Stores;
  clock: Clock;
  random: Random;
  claims?: ClaimsHook;
  logger?: CoreLogger;
  /** Where lifecycle mail goes (verification, reset, email change); default: dropped with a warning. */
  mail?: MailQueue;
  /** Where domain events are reported for operations (metrics); default: nowhere. */
  telemetry?: Telemetry;
  /** Where argon2id runs; default: in this process (libuv's thread pool). */
  passwordEngine?: PasswordHashEngine;
}

/** What a request needs from sessions; starting one is for ways in only (SignIn, migration). */
export type RequestSessions = Pick<
  SessionControl,
  | 'authenticateCookie'
  | 'checkCookie'
  | 'authenticateCookieCached'
  | 'authenticateBearer'
  | 'authenticateBearerCached'
  | 'refresh'
  | 'registerDevice'
  | 'refreshDevice'
  | 'logout'
  | 'data'
  | 'patchData'
>;

/** Proof of possession for token requests (login, refresh): the policy, proof checks and server nonces. */
export type ProofOfPossession = Pick<Dpop, 'mode' | 'policy' | 'check' | 'nonce'>;

/** What other services read from this issuer. */
export interface Published {
  jwks(): { keys: Array<Record<string, unknown>> };
  /** The revocation set as other services may see it: a snapshot, whether it is complete, and its window. */
  revocations(): RevocationSnapshot & { windowMs: number };
  /** Cheap check for memoised readers: changes whenever the set does. */
  revocationRevision(): number;
}

/** Counts for health checks, metrics and tests. */
export interface CoreDiagnostics {
  cachedSessions: number;
  cachedTokens: number;
  revocationsTrusted: boolean;
  /** Whether a signing key for access tokens is loaded. */
  signingKeyLoaded: boolean;
  /** argon2 work started since start-up: new password hashes and verifications. */
  passwordHashes: number;
  passwordVerifications: number;
}

/**
 * How long a revocation must hold (ms): longer than any access token or cached entry it could
 * affect lives. The change feed must keep events at least this long.
 */
export function revocationHorizonMs(config: GatehouseConfig): number {
  const tokenLife = config.token.accessTtl + config.token.clockSkew;
  return Math.max(tokenLife, config.token.maxAge, 60_000) + 60_000;
}

export class AuthCore {
  readonly config: GatehouseConfig;
  readonly signIn: SignIn;
  readonly sessions: RequestSessions;
  /** DPoP for the token endpoints (resource requests are checked by `sessions.authenticateBearer`). */
  readonly dpop: ProofOfPossession;
  readonly account: Account;
  readonly factors: SecondFactors;
  /** Identity providers: sign-in, linking, back-channel logout. */
  readonly federation: Federation;
  readonly lifecycle: Lifecycle;
  readonly admin: Admin;
  readonly published: Published;

  readonly #clock: Clock;
  readonly #random: Random;
  readonly #keys: KeyRing;
  readonly #revocations: RevocationSet;
  readonly #users: UserDirectory;
  readonly #control: SessionControl;
  readonly #manager: SessionManager;
  readonly #tokens: AccessTokens;
  readonly #sweeper: Sweeper;
  readonly #hasher: PasswordHasher;
  readonly #ping: () => Promise<void>;
  readonly #countSessions: (now: number) => Promise<Record<SessionMode, number>>;

  constructor(deps: CoreDeps) {
    const { config, stores, clock, random } = deps;
    const logger = deps.logger ?? { warn() {}, error() {} };
    this.config = config;
    this.#clock = clock;
    this.#random = random;
    this.#ping = () => stores.ping();
    this.#countSessions = (now) => stores.sessions.countLiveSessions(now);

    const horizon = revocationHorizonMs(config);
    if (stores.feed.retentionMs < horizon) {
      throw new TypeError(
        `the change feed keeps events ${Math.round(stores.feed.retentionMs / 60_000)} min, but a revocation must hold ${Math.ceil(horizon / 60_000)} min ` +
          '(GATEHOUSE_ACCESS_TOKEN_TTL / GATEHOUSE_ACCESS_TOKEN_MAX_AGE): open the stores with a longer feedRetentionMs',
      );
    }
    const hasher = (this.#hasher = new PasswordHasher(config.passwordHashing, deps.passwordEngine));
    const telemetry = deps.telemetry ?? noTelemetry;
    const audit = new Audit(stores.audit, clock, random, telemetry);
    const tokenLife = config.token.accessTtl + config.token.clockSkew;
    const keys = (this.#keys = new KeyRing(stores.keys, { alg: config.token.alg, secret: config.secret, verifyWindowMs: Math.max(tokenLife, config.token.maxAge) }, clock, random));
    const users = (this.#users = new UserDirectory(stores.users, stores.feed, clock, config.cacheMaxEntries, 60_000));
    const revocations = (this.#revocations = new RevocationSet(stores.feed, clock, horizon, {
      keysChanged: () => void keys.reload().catch((e: unknown) => logger.error({ err: e }, 'key reload failed')),
      userChanged: (id) => users.forget(id),
      error: (e) => logger.warn({ err: e }, 'revocation replay failed; reading sessions from the store until it succeeds'),
      delivered: (type, lagMs) => telemetry.feedDelivered(type, lagMs),
    }));
    const times = (m: 'session' | 'token'): SessionTimes =>
      m === 'session'
        ? { single: config.session.single, idleTtlMs: config.session.idleTtl, absoluteTtlMs: config.session.absoluteTtl, renewIntervalMs: config.session.renewInterval, maxPerUser: config.session.single ? 1 : config.session.maxPerUser }
        : { single: config.token.single, idleTtlMs: config.token.refreshIdleTtl, absoluteTtlMs: config.token.refreshAbsoluteTtl, renewIntervalMs: config.session.renewInterval, maxPerUser: config.token.single ? 1 : config.token.maxPerUser };
    const manager = (this.#manager = new SessionManager(stores.sessions, revocations, { session: times('session'), token: times('token'), cacheMaxEntries: config.cacheMaxEntries, cacheTtlMs: 60_000 }, clock, random));
    const tokens = (this.#tokens = new AccessTokens(keys, {
      issuer: config.publicUrl,
      audience: config.token.audience,
      accessTtlMs: config.token.accessTtl,
      maxAgeMs: config.token.maxAge,
      clockSkewMs: config.token.clockSkew,
      maxBytes: config.token.maxBytes,
      cacheMaxEntries: config.cacheMaxEntries,
      ...(deps.claims ? { claims: deps.claims } : {}),
    }, clock, random));
    const refresh = new RefreshTokens(stores.refreshTokens, { idleTtlMs: config.token.refreshIdleTtl, graceMs: config.token.refreshGrace }, clock, random);
    revocations.onRevoked((ids) => tokens.forgetSessions(new Set(ids)));

    const dpop = new Dpop(stores.proofs, { mode: config.dpop.mode, nonce: config.dpop.nonce, windowMs: config.dpop.proofWindow, cacheMaxEntries: config.cacheMaxEntries }, clock, random);
    const dbsc = new DeviceBoundSessions(keys, stores.proofs, { enabled: config.dbsc.mode !== 'off', cookieTtlMs: config.dbsc.cookieTtl, cacheMaxEntries: config.cacheMaxEntries }, clock, random, config.secret === null ? null : hmacSha256(Buffer.from(config.secret, 'utf8'), 'gatehouse/dbsc/registration'));
    const control = (this.#control = new SessionControl({
      sessions: manager,
      dpop,
      dbsc,
      refresh,
      tokens,
      revocations,
      users,
      audit,
      clock,
      dataMaxBytes: config.session.dataMaxBytes,
      telemetry,
      publish: async (ids, at) => {
        // Bounded events: a feed may carry them in size-limited messages (Postgres NOTIFY: under 8000
        // bytes), and ids vary in length (src/ids.ts), so batches are cut by their JSON size.
        for (const batch of revocationBatches(ids, REVOCATION_EVENT_MAX_BYTES)) await stores.feed.publish({ type: 'sessions.revoked', ids: batch, at });
      },
    }));
    const password = new PasswordMethod(users, hasher);
    const challenges = new Challenges(stores.challenges, clock, random);
    const totp = new TotpMethod(stores.totp, config.secret, config.webauthn.rpName, clock, random);
    const recovery = new RecoveryCodes(stores.recoveryCodes, clock, random);
    const passkeys = new PasskeyMethod(stores.passkeys, challenges, users, webAuthnSettings(config), clock);
    const assurance = new Assurance({ sessions: control, totp, passkeys, clock, windowMs: config.reauthWindow });
    const removal = new AccountRemoval({
      users,
      sessions: control,
      oneTimeTokens: stores.oneTimeTokens,
      factors: { totp: stores.totp, recoveryCodes: stores.recoveryCodes, passkeys: stores.passkeys, challenges: stores.challenges, identities: stores.identities },
      auditLog: stores.audit,
      audit,
    });
    const mail: MailQueue = deps.mail ?? {
      enqueue() {
        logger.warn({}, 'no mailer configured: a verification, reset or email-change message was not sent (pass `mailer` or set GATEHOUSE_SMTP_URL)');
      },
    };
    this.#sweeper = new Sweeper(stores, audit, clock, config.auditRetention);

    this.sessions = control;
    this.dpop = dpop;
    this.signIn = new SignIn({ password, totp, recovery, passkeys, challenges, assurance, sessions: control, users, audit, mail, requireVerifiedEmail: config.lifecycle.requireVerifiedEmail });
    this.account = new Account({ sessions: control, password, totp, passkeys, assurance, users, removal, hasher, audit, clock, reauthWindowMs: config.reauthWindow });
    this.factors = new SecondFactors({ totp, recovery, passkeys, assurance, sessions: control, audit });
    this.federation = new Federation({
      oidc: new OidcMethod(config.oidc.providers),
      challenges,
      identities: stores.identities,
      users,
      sessions: control,
      assurance,
      passkeys,
      proofs: stores.proofs,
      audit,
      clock,
      random,
      requireVerifiedEmail: config.lifecycle.requireVerifiedEmail,
    });
    this.lifecycle = new Lifecycle({
      users,
      oneTimeTokens: stores.oneTimeTokens,
      sessions: control,
      password,
      hasher,
      audit,
      clock,
      random,
      config: { publicUrl: config.publicUrl, ...config.lifecycle },
      mail,
      logger,
      assurance,
    });
    this.admin = new Admin({
      users,
      sessions: control,
      removal,
      lifecycle: this.lifecycle,
      keys,
      audit,
      sweeper: this.#sweeper,
      factors: { totp, recovery, passkeys },
      mail,
      keysChanged: () => stores.feed.publish({ type: 'keys.changed', at: clock.now() }),
      assurance,
      identities: stores.identities,
      sessionStore: stores.sessions,
      clock,
    });
    this.published = {
      jwks: () => keys.jwks(),
      revocations: () => ({ ...revocations.snapshot(), windowMs: revocations.windowMs }),
      revocationRevision: () => revocations.revision,
    };
  }

  /** The core's clock (cookie lifetimes and response times are computed from it). */
  now(): number {
    return this.#clock.now();
  }

  async start(): Promise<void> {
    await this.#keys.init();
    this.#revocations.start();
    await this.#revocations.settled();
  }

  async stop(): Promise<void> {
    await this.#sweeper.stop();
    this.#revocations.stop();
  }

  /** Sweeps expired rows every `intervalMs` until `stop()`. */
  startSweeps(intervalMs: number, report: { done(r: SweepResult): void; failed(e: unknown): void }): void {
    this.#sweeper.start(intervalMs, report);
  }

  /** The express-session way in, with these settings. */
  migration(settings: MigrationSettings): LegacyMigration {
    return new LegacyMigration({ sessions: this.#control, users: this.#users, clock: this.#clock, random: this.#random }, settings);
  }

  /** Maps an old session to a user by a field of its data: an email is looked up, anything else is a user id. */
  userFieldMapper(path: string): (data: Record<string, unknown>) => Promise<string | null> {
    return userFieldMapper(this.#users, (e) => normalizeEmail(e)?.canonical ?? null, path);
  }

  /** Resolves when the stores answer (liveness of what every request needs); rejects otherwise. */
  ping(): Promise<void> {
    return this.#ping();
  }

  /** Live sessions per mode, counted in the store (for the active-sessions metric; not for a request path). */
  countLiveSessions(): Promise<Record<SessionMode, number>> {
    return this.#countSessions(this.#clock.now());
  }

  diagnostics(): CoreDiagnostics {
    const h = this.#hasher.stats;
    return {
      cachedSessions: this.#manager.cacheSize,
      cachedTokens: this.#tokens.cacheSize,
      revocationsTrusted: this.#revocations.trusted,
      signingKeyLoaded: this.#keys.loaded,
      passwordHashes: h.hashes,
      passwordVerifications: h.verifies,
    };
  }
}

/** WebAuthn's relying party: the public URL's host and origin unless configured otherwise. */
export function webAuthnSettings(config: GatehouseConfig): WebAuthnSettings {
  const url = new URL(config.publicUrl);
  return { rpId: config.webauthn.rpId ?? url.hostname, rpName: config.webauthn.rpName, origins: [...new Set([url.origin, ...config.webauthn.origins])] };
}

/** The JSON size bound of one `sessions.revoked` event's ids (Postgres NOTIFY payloads must stay under 8000 bytes). */
export const REVOCATION_EVENT_MAX_BYTES = 6000;

/** Splits ids into batches whose JSON array stays within `maxBytes` (an id longer than that goes alone). */
export function revocationBatches(ids: readonly string[], maxBytes: number): string[][] {
  const out: string[][] = [];
  let cur: string[] = [];
  let size = 2; // []
  for (const id of ids) {
    const n = Buffer.byteLength(JSON.stringify(id)) + 1; // the value and its comma
    if (cur.length > 0 && size + n > maxBytes) {
      out.push(cur);
      cur = [];
      size = 2;
    }
    cur.push(id);
    size += n;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}
