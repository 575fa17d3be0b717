/**
 * Access tokens: RFC 9068 JWTs made and checked with `jose`, signed by the key ring.
 *
 * Verification pins the algorithm of the key named by `kid` (from our own ring only), requires
 * typ `at+jwt`, iss, aud, exp, iat, sub, sid and jti, bounds the token's age and lifetime, and
 * refuses headers that try to bring their own key (jwk, jku, x5u, x5c) or critical extensions.
 * A verified token is cached until it expires, so the steady state costs one map lookup, not a
 * signature check; revocation is checked separately (RevocationSet) on every use.
 */
import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import type { Clock, Random, SessionRecord } from '../ports.js';
import { ExpiringCache } from './cache.js';
import { randomId } from './crypto.js';
import type { KeyRing } from './keys.js';
import type { PublicUser } from './users.js';

export interface AccessClaims {
  iss: string;
  aud: string;
  sub: string;
  sid: string;
  iat: number;
  exp: number;
  jti: string;
  /** How the session was authenticated (RFC 8176), its assurance level, and when (seconds): see SessionRecord. */
  amr?: string[];
  acr?: string;
  auth_time?: number;
  /** RFC 9449: the thumbprint of the key the token is bound to (DPoP). */
  cnf?: { jkt: string };
  [claim: string]: unknown;
}

/** The DPoP key thumbprint a token is bound to, or undefined for a plain bearer token. */
export function boundJkt(c: AccessClaims): string | undefined {
  const jkt = c.cnf?.jkt;
  return typeof jkt === 'string' ? jkt : undefined;
}

/** Adds application claims to access tokens, e.g. `(user) => ({ role: rolesOf(user.id) })`. */
export type ClaimsHook = (
  user: PublicUser,
  session: SessionRecord,
) => Record<string, unknown> | Promise<Record<string, unknown>>;

/** Claims an application hook may never set. */
export const RESERVED_CLAIMS = new Set([
  'iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti', 'sid', 'typ', 'client_id', 'scope', 'auth_time', 'acr', 'amr', 'cnf',
]);

const FORBIDDEN_HEADERS = ['jwk', 'jku', 'x5u', 'x5c', 'x5t', 'x5t#S256', 'crit'];
const B64URL = /^[A-Za-z0-9_-]+$/;
/** Anything longer is refused before parsing. */
const MAX_TOKEN_CHARS = 8192;

export interface TokenOptions {
  issuer: string;
  audience: string;
  accessTtlMs: number;
  maxAgeMs: number;
  /** How far a token's `iat` may lie ahead of this clock (another instance's clock may run ahead). Never applied to `exp`. */
  clockSkewMs: number;
  maxBytes: number;
  cacheMaxEntries: number;
  claims?: ClaimsHook;
}

export class AccessTokens {
  /** Verified tokens with the kid that verified them: a hit is honoured only while that key still verifies. */
  private readonly cache: ExpiringCache<string, { claims: AccessClaims; kid: string }>;

  constructor(
    private readonly ring: KeyRing,
    private readonly opts: TokenOptions,
    private readonly clock: Clock,
    private readonly random: Random,
  ) {
    this.cache = new ExpiringCache(opts.cacheMaxEntries);
  }

  async issue(user: PublicUser, session: SessionRecord): Promise<{ token: string; expiresIn: number; claims: AccessClaims }> {
    const extra = this.opts.claims ? await this.opts.claims(user, session) : {};
    if (extra === null || typeof extra !== 'object' || Array.isArray(extra)) {
      throw new TypeError('the claims hook must return a plain object');
    }
    for (const k of Object.keys(extra)) {
      if (RESERVED_CLAIMS.has(k)) throw new TypeError(`the claims hook may not set the reserved claim "${k}"`);
    }
    const key = this.ring.current();
    const iat = Math.floor(this.clock.now() / 1000);
    const expiresIn = Math.floor(this.opts.accessTtlMs / 1000);
    const claims: AccessClaims = {
      ...extra,
      iss: this.opts.issuer,
      aud: this.opts.audience,
      sub: user.id,
      sid: session.id,
      amr: session.amr,
      acr: session.acr,
      auth_time: Math.floor(session.authAt / 1000),
      iat,
      exp: iat + expiresIn,
      jti: randomId(this.random),
      ...(session.binding?.kind === 'dpop' ? { cnf: { jkt: session.binding.jkt } } : {}),
    };
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt' })
      .sign(key.privateKey);
    if (Buffer.byteLength(token) > this.opts.maxBytes) {
      throw new TypeError(`access token is ${Buffer.byteLength(token)} bytes, over the ${this.opts.maxBytes}-byte bound; trim the claims hook`);
    }
    return { token, expiresIn, claims };
  }

  /**
   * verify from the cache alone, without a promise: the claims of a token verified before (while the
   * key that verified it is still in the ring), null when that key is gone, undefined on a miss (verify
   * must run). Only verified tokens are cached, so a flood of invalid ones adds nothing here.
   */
  verifyCached(token: string): AccessClaims | null | undefined {
    const hit = this.cache.get(token, this.clock.now());
    if (hit === undefined) return undefined;
    return this.ring.get(hit.kid) ? hit.claims : null;
  }

  /** The token's claims if it is a valid access token from this issuer, else null. Never throws on bad input. */
  async verify(token: string): Promise<AccessClaims | null> {
    const now = this.clock.now();
    const hit = this.cache.get(token, now);
    // A key retired at once (compromise) must cut off tokens already verified with it.
    if (hit) return this.ring.get(hit.kid) ? hit.claims : null;
    if (token.length > MAX_TOKEN_CHARS) return null;
    const header = parseHeader(token);
    if (!header) return null;
    let key = this.ring.get(header.kid);
    if (!key && (await this.ring.reloadForUnknownKid())) key = this.ring.get(header.kid);
    if (!key || key.alg !== header.alg) return null;
    try {
      const { payload } = await jwtVerify(token, key.publicKey, {
        algorithms: [key.alg],
        issuer: this.opts.issuer,
        audience: this.opts.audience,
        typ: 'at+jwt',
        requiredClaims: ['exp', 'iat', 'sub', 'sid', 'jti'],
        // No leeway on `exp`: these tokens were signed by this deployment, on the clock that checks
        // them now, so a token is dead the second its `exp` is reached. (Other services verifying
        // them through gatehouse/verify have their own, configurable tolerance.) The age bound and a
        // future `iat` are checked below, where `iat` gets the skew between instances' clocks.
        clockTolerance: 0,
        currentDate: new Date(now),
      });
      const c = payload as AccessClaims;
      if (typeof c.sub !== 'string' || typeof c.sid !== 'string' || typeof c.jti !== 'string') return null;
      // A token whose lifetime exceeds what we issue was not issued by us as-is.
      if (c.exp - c.iat > Math.ceil((this.opts.accessTtlMs + this.opts.clockSkewMs) / 1000)) return null;
      if (c.iat * 1000 > now + this.opts.clockSkewMs) return null;
      if (now - c.iat * 1000 > this.opts.maxAgeMs) return null;
      const until = Math.min(c.exp * 1000, c.iat * 1000 + this.opts.maxAgeMs);
      this.cache.set(token, { claims: c, kid: key.kid }, until);
      return c;
    } catch (e) {
      if (e instanceof joseErrors.JOSEError || e instanceof TypeError || e instanceof SyntaxError) return null;
      throw e;
    }
  }

  /** Drops cached tokens of the given sessions (revocation also blocks them by sid; this frees memory). */
  forgetSessions(ids: ReadonlySet<string>): void {
    this.cache.deleteWhere((c) => ids.has(c.claims.sid));
  }

  get cacheSize(): number {
    return this.cache.size;
  }
}

function parseHeader(token: string): { alg: string; kid: string } | null {
  const dot = token.indexOf('.');
  if (dot <= 0 || dot > 2048) return null;
  const parts = token.split('.');
  if (parts.length !== 3 || !parts[1] || !parts[2]) return null;
  // Compact JWS is unpadded base64url (RFC 7515 §2); decoders that tolerate '=' or '+/' would make one
  // signature accept several spellings of a token, so anything else is malformed.
  for (const p of parts) if (!B64URL.test(p)) return null;
  // And canonical: a last character differing only in unused low bits decodes to the same bytes, which
  // would give one signature several spellings (and bypass the verified-token cache's identity).
  for (const p of parts) if (Buffer.from(p, 'base64url').toString('base64url') !== p) return null;
  let h: unknown;
  try {
    h = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  if (h === null || typeof h !== 'object' || Array.isArray(h)) return null;
  const o = h as Record<string, unknown>;
  if (typeof o.alg !== 'string' || typeof o.kid !== 'string' || o.kid.length > 64) return null;
  for (const f of FORBIDDEN_HEADERS) if (f in o) return null;
  return { alg: o.alg, kid: o.kid };
}
