/**
 * Device Bound Session Credentials (W3C DBSC, as Chrome ships it) for cookie sessions.
 *
 * After a cookie sign-in the browser is offered registration with a challenge. It creates a key pair
 * (in a TPM where it can) and proves it with a `dbsc+jwt` signed by that key, carrying the public key
 * and the challenge; the session is then bound to that key. From then on the long-lived session cookie
 * is not enough: a request also needs the short bound cookie, which only the refresh endpoint issues,
 * and only against a fresh challenge signed with the registered key. A copied cookie pair therefore
 * works off its device until the short cookie expires, and no longer.
 *
 * The bound cookie is a JWT signed by the key ring (typ `dbsc-cookie+jwt`) naming the session and the
 * key's thumbprint: every instance verifies it without a store read, a verified value is cached until
 * it expires (the steady state is one map lookup), and a new registration makes older cookies worthless.
 * Refresh challenges are single-use marks in the ProofMarkStore, shared by every instance. A
 * registration challenge is offered on every cookie sign-in of a browser, most of which never register,
 * so it carries its own proof instead (an HMAC over the session id, its expiry and a nonce): a sign-in
 * writes nothing for it, and only an answered one is recorded, as spent, until it would have expired.
 */
import { compactVerify, errors as joseErrors, importJWK, jwtVerify, SignJWT, type CryptoKey } from 'jose';
import type { Clock, ProofMarkStore, Random, SessionRecord } from '../ports.js';
import { ExpiringCache } from './cache.js';
import { b64url, hmacSha256, randomId, safeEqual } from './crypto.js';
import type { KeyRing } from './keys.js';
import { decodeSegment, importPublicJwk, sha256b64, splitCompact } from './proof-jwt.js';

export interface DbscPolicy {
  enabled: boolean;
  /** Lifetime of the short bound cookie (ms). */
  cookieTtlMs: number;
  cacheMaxEntries: number;
}

/** How long a registration or refresh challenge can be answered. */
export const CHALLENGE_TTL_MS = 5 * 60_000;
/** How far a proof's `iat`, when it has one, may be from the server's time. */
const IAT_WINDOW_MS = 5 * 60_000;
const COOKIE_TYP = 'dbsc-cookie+jwt';
const MAX_PROOF_CHARS = 8192;

export interface BoundCookie {
  value: string;
  maxAgeSeconds: number;
}

export type DbscFailure = {
  ok: false;
  reason: string;
  /** The challenge was unknown, expired or already answered: the browser may sign a new one (a 403 with a challenge). */
  retry: boolean;
};

/** What a verified proof says besides its signature. */
interface ProofClaims {
  jti: string;
}

function claimsOf(payloadBytes: Uint8Array, expectedAud: string, now: number): ProofClaims | string {
  let p: unknown;
  try {
    p = JSON.parse(Buffer.from(payloadBytes).toString('utf8'));
  } catch {
    return 'the payload is not JSON';
  }
  if (p === null || typeof p !== 'object' || Array.isArray(p)) return 'the payload is not a JSON object';
  const c = p as Record<string, unknown>;
  if (typeof c.jti !== 'string' || c.jti.length === 0 || c.jti.length > 256) return 'jti (the challenge) is missing';
  // `aud` and `iat` are optional in the draft (Chrome adds them behind a feature); when present they must be right.
  if (c.aud !== undefined) {
    const auds = Array.isArray(c.aud) ? c.aud : [c.aud];
    if (!auds.includes(expectedAud)) return 'aud does not name this endpoint';
  }
  if (c.iat !== undefined) {
    const iat = typeof c.iat === 'number' ? c.iat : typeof c.iat === 'string' && /^\d{1,12}$/.test(c.iat) ? Number(c.iat) : NaN;
    if (!Number.isFinite(iat)) return 'iat is not a time';
    if (Math.abs(now - iat * 1000) > IAT_WINDOW_MS) return 'iat is outside the accepted window';
  }
  // Gatehouse never sends an `authorization` parameter, so a proof carrying one was made for something else.
  if (c.authorization !== undefined) return 'unexpected authorization claim';
  return { jti: c.jti };
}

export class DeviceBoundSessions {
  /** Verified bound cookies: the session and key they name, and the kid that verified them. */
  private readonly cookies: ExpiringCache<string, { sid: string; jkt: string; kid: string }>;
  /** Registered public keys, imported once per thumbprint. */
  private readonly keys: ExpiringCache<string, CryptoKey>;

  constructor(
    private readonly ring: KeyRing,
    private readonly store: ProofMarkStore,
    readonly policy: DbscPolicy,
    private readonly clock: Clock,
    private readonly random: Random,
    /** Key of the registration challenges' HMAC (derived from the server secret); without one they are stored marks like refresh challenges. */
    private readonly challengeKey: Uint8Array | null,
  ) {
    this.cookies = new ExpiringCache(policy.cacheMaxEntries);
    this.keys = new ExpiringCache(Math.max(1, Math.min(policy.cacheMaxEntries, 100_000)));
  }

  get enabled(): boolean {
    return this.policy.enabled;
  }

  /** A new challenge for a session, answerable once within `ttlMs`. */
  async challenge(sessionId: string, ttlMs = CHALLENGE_TTL_MS): Promise<string> {
    const now = this.clock.now();
    const c = randomId(this.random);
    await this.store.putProofMark('challenge', sha256b64(`${sessionId}:${c}`), now + ttlMs, now);
    return c;
  }

  /** A registration challenge for a new cookie session: `<expiry>.<nonce>.<mac>`, nothing stored. */
  async registrationChallenge(sessionId: string): Promise<string> {
    if (this.challengeKey === null) return this.challenge(sessionId);
    const body = `${(this.clock.now() + CHALLENGE_TTL_MS).toString(36)}.${randomId(this.random)}`;
    return `${body}.${this.registrationMac(this.challengeKey, sessionId, body)}`;
  }

  private registrationMac(key: Uint8Array, sessionId: string, body: string): string {
    return b64url(hmacSha256(key, `dbsc-registration:${sessionId}:${body}`));
  }

  /** Spends a registration challenge: made for this session by this server, unexpired, and answered once. */
  private async spendRegistration(sessionId: string, c: string): Promise<boolean> {
    if (this.challengeKey === null) return this.take(sessionId, c);
    const parts = c.split('.');
    if (parts.length !== 3) return false;
    const [exp36, nonce, mac] = parts as [string, string, string];
    const expiresAt = parseInt(exp36, 36);
    const now = this.clock.now();
    if (!/^[0-9a-z]{1,11}$/.test(exp36) || !Number.isSafeInteger(expiresAt) || expiresAt <= now) return false;
    const expected = Buffer.from(this.registrationMac(this.challengeKey, sessionId, `${exp36}.${nonce}`));
    const given = Buffer.from(mac);
    if (given.length !== expected.length || !safeEqual(given, expected)) return false;
    return this.store.putProofMark('challenge', sha256b64(`${sessionId}:${c}`), expiresAt, now);
  }

  /** A challenge to hand out with a fresh bound cookie, for the browser's next refresh (it lives as long as the cookie, and then some). */
  nextChallenge(sessionId: string): Promise<string> {
    return this.challenge(sessionId, this.policy.cookieTtlMs + CHALLENGE_TTL_MS);
  }

  private take(sessionId: string, c: string): Promise<boolean> {
    return this.store.takeProofMark('challenge', sha256b64(`${sessionId}:${c}`), this.clock.now());
  }

  /**
   * Verifies a registration proof for an unbound session: `typ` dbsc+jwt, ES256, the new public key
   * in the header `jwk`, signed by it, answering a challenge handed to this session. Resolves the
   * binding to record (the caller binds the session) or a failure.
   */
  async verifyRegistration(session: SessionRecord, proof: string, registrationUrl: string): Promise<{ ok: true; jkt: string; key: string } | DbscFailure> {
    const parts = splitCompact(proof, MAX_PROOF_CHARS);
    if (!parts) return { ok: false, reason: 'the proof is not a compact JWS', retry: false };
    const h = decodeSegment(parts[0]);
    if (!h) return { ok: false, reason: 'the header is not a JSON object', retry: false };
    if (h.typ !== 'dbsc+jwt') return { ok: false, reason: 'typ must be dbsc+jwt', retry: false };
    if (h.alg !== 'ES256') return { ok: false, reason: 'alg must be ES256 (the only one offered)', retry: false };
    const k = await importPublicJwk(h.jwk, 'ES256');
    if (typeof k === 'string') return { ok: false, reason: k, retry: false };
    const claims = await this.verified(proof, k.key, registrationUrl);
    if (typeof claims === 'string') return { ok: false, reason: claims, retry: false };
    if (!(await this.spendRegistration(session.id, claims.jti))) return { ok: false, reason: 'the challenge is unknown, expired or already answered', retry: false };
    return { ok: true, jkt: k.jkt, key: k.canonical };
  }

  /**
   * Verifies a refresh proof of a DBSC-bound session: signed by the registered key (a proof naming
   * its own key is refused: only the stored one counts), answering a challenge handed to this session.
   */
  async verifyRefresh(session: SessionRecord, proof: string, refreshUrl: string): Promise<{ ok: true } | DbscFailure> {
    const b = session.binding;
    if (b?.kind !== 'dbsc') return { ok: false, reason: 'the session is not bound to a device key', retry: false };
    const parts = splitCompact(proof, MAX_PROOF_CHARS);
    if (!parts) return { ok: false, reason: 'the proof is not a compact JWS', retry: false };
    const h = decodeSegment(parts[0]);
    if (!h) return { ok: false, reason: 'the header is not a JSON object', retry: false };
    if (h.typ !== 'dbsc+jwt') return { ok: false, reason: 'typ must be dbsc+jwt', retry: false };
    if (h.alg !== 'ES256') return { ok: false, reason: 'alg must be ES256', retry: false };
    if ('jwk' in h) return { ok: false, reason: 'a refresh proof must not carry a key', retry: false };
    const key = await this.registeredKey(b.jkt, b.key);
    if (!key) return { ok: false, reason: 'the registered key cannot be used', retry: false };
    const claims = await this.verified(proof, key, refreshUrl);
    if (typeof claims === 'string') return { ok: false, reason: claims, retry: false };
    if (!(await this.take(session.id, claims.jti))) return { ok: false, reason: 'the challenge is unknown, expired or already answered', retry: true };
    return { ok: true };
  }

  private async verified(proof: string, key: CryptoKey, aud: string): Promise<ProofClaims | string> {
    let payload: Uint8Array;
    try {
      // JWS only: the draft's claims are checked below (Chrome has sent `iat` as a string).
      ({ payload } = await compactVerify(proof, key, { algorithms: ['ES256'] }));
    } catch (e) {
      if (e instanceof joseErrors.JOSEError || e instanceof TypeError) return 'the signature is not valid for the session key';
      throw e;
    }
    return claimsOf(payload, aud, this.clock.now());
  }

  private async registeredKey(jkt: string, jwk: string): Promise<CryptoKey | null> {
    const now = this.clock.now();
    const hit = this.keys.get(jkt, now);
    if (hit) return hit;
    try {
      const k = await importJWK(JSON.parse(jwk) as Record<string, string>, 'ES256');
      if (k instanceof Uint8Array) return null;
      this.keys.set(jkt, k, now + 3_600_000);
      return k;
    } catch {
      return null;
    }
  }

  /** A new short bound cookie for a session bound to the key `jkt`. */
  async issueCookie(sessionId: string, jkt: string, sessionExpiresAt: number): Promise<BoundCookie> {
    const now = this.clock.now();
    const exp = Math.min(now + this.policy.cookieTtlMs, sessionExpiresAt);
    const key = this.ring.current();
    const value = await new SignJWT({ sid: sessionId, jkt })
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: COOKIE_TYP })
      .setIssuedAt(Math.floor(now / 1000))
      .setExpirationTime(Math.floor(exp / 1000))
      .sign(key.privateKey);
    return { value, maxAgeSeconds: Math.max(0, Math.floor((exp - now) / 1000)) };
  }

  /**
   * Whether `value` is a live bound cookie of `session` (and of its current key), from the cache
   * alone: undefined on a miss (checkCookie must run). Only verified cookies are cached.
   */
  checkCookieCached(value: string | undefined, session: SessionRecord): boolean | undefined {
    if (value === undefined || session.binding?.kind !== 'dbsc') return false;
    const hit = this.cookies.get(value, this.clock.now());
    if (hit === undefined) return undefined;
    return hit.sid === session.id && hit.jkt === session.binding.jkt && this.ring.get(hit.kid) !== undefined;
  }

  async checkCookie(value: string | undefined, session: SessionRecord): Promise<boolean> {
    const cached = this.checkCookieCached(value, session);
    if (cached !== undefined) return cached;
    const parts = splitCompact(value!, 2048);
    if (!parts) return false;
    const h = decodeSegment(parts[0]);
    if (!h || typeof h.kid !== 'string' || h.typ !== COOKIE_TYP) return false;
    const key = this.ring.get(h.kid);
    if (!key || key.alg !== h.alg) return false;
    const now = this.clock.now();
    try {
      const { payload } = await jwtVerify(value!, key.publicKey, { algorithms: [key.alg], typ: COOKIE_TYP, requiredClaims: ['exp', 'iat'], currentDate: new Date(now) });
      if (typeof payload.sid !== 'string' || typeof payload.jkt !== 'string' || typeof payload.exp !== 'number') return false;
      this.cookies.set(value!, { sid: payload.sid, jkt: payload.jkt, kid: key.kid }, payload.exp * 1000);
      return this.checkCookieCached(value, session) === true;
    } catch (e) {
      if (e instanceof joseErrors.JOSEError || e instanceof TypeError) return false;
      throw e;
    }
  }
}
