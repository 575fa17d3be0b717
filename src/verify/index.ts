/**
 * `gatehouse/verify`: lets another service trust Gatehouse access tokens without sharing a secret
 * or a database. It fetches the issuer's public keys from its JWKS URL (cached by `jose`'s remote
 * JWK set, refetched on an unknown `kid` at most once per cooldown) and applies the same checks as
 * Gatehouse itself: one pinned asymmetric algorithm list, typ `at+jwt`, iss, aud, exp/nbf/iat,
 * required exp, iat, sub, sid and jti, and a maximum token age.
 *
 * Revocation is opt-in (`revocations: true`): the verifier then polls the issuer's
 * `/.well-known/gatehouse-revocations` (hashes of the session ids revoked within the access-token
 * window; a conditional GET every second by default) and refuses tokens whose `sid` is listed. A
 * logout therefore reaches this service about one poll interval (plus a request) after the issuer's
 * instances have seen it, with no request to the issuer per token; while polls fail, the last list is
 * used for up to `maxStaleMs` (30 s by default). Past that (the issuer unreachable, or answering 503
 * because its own revocation feed is down), or before the first list arrived, `verify()` throws
 * `RevocationsUnavailableError` and the middleware answers 503: it fails closed. `close()` stops the
 * polling. Without the option a service trusts a token until it expires (10 minutes by default).
 *
 * DPoP (RFC 9449): a token bound to a client key (`cnf.jkt`) is accepted only when presented as
 * `Authorization: DPoP <token>` with a `DPoP` proof of that key for this request (method, URI, a recent
 * `iat`, an unused `jti`, `ath` = the token's hash), checked with the same code as Gatehouse. A bound
 * token presented as `Bearer` is refused, and so is an unbound one presented as `DPoP`. Set
 * `dpop.origin` to this service's public origin: proofs name it, and the request's own Host header is
 * never trusted for that. Proof ids are remembered in memory (per process) unless `dpop.replay` shares them.
 *
 * @example
 * ```ts
 * import express from 'express';
 * import { createVerifier, requireGatehouseToken } from 'gatehouse/verify';
 *
 * const verifier = createVerifier({ issuer: 'https://auth.example.com', audience: 'gatehouse', revocations: true });
 * const app = express();
 * app.get('/orders', requireGatehouseToken(verifier), (req, res) => res.json({ user: req.gatehouseClaims!.sub }));
 * ```
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { ExpiringCache } from '../core/cache.js';
import { checkDpopProof, DPOP_ALGS, ProofHeaderCache } from '../core/proof-jwt.js';
import { RevocationPoller, RevocationsUnavailableError, type RevocationPollOptions } from './revocations.js';

export { RevocationsUnavailableError, type RevocationPollOptions } from './revocations.js';

/** The claims of a verified Gatehouse access token (RFC 9068), plus any application claims. */
export interface GatehouseClaims {
  iss: string;
  aud: string | string[];
  sub: string;
  sid: string;
  iat: number;
  exp: number;
  jti: string;
  [claim: string]: unknown;
}

export type VerifierAlgorithm = 'EdDSA' | 'ES256' | 'RS256';

export interface VerifierOptions {
  /** The issuer's public URL, exactly as Gatehouse's `publicUrl` (the `iss` claim). */
  issuer: string;
  /** The expected `aud` claim (Gatehouse's `token.audience`, default `gatehouse`). */
  audience: string;
  /** Default `${issuer}/.well-known/jwks.json`. */
  jwksUrl?: string;
  /** Accepted algorithms; asymmetric only. Default: all three Gatehouse can sign with. */
  algorithms?: VerifierAlgorithm[];
  /** Tokens whose `iat` is older than this (seconds) are refused. Default 3600, as Gatehouse. */
  maxAgeSeconds?: number;
  /**
   * Allowed clock difference between this service and the issuer (seconds), applied to `exp`, `iat`
   * and the age bound: a token is still accepted up to this long after its `exp`. Default 30. (The
   * issuer itself allows none on `exp`: it signs and checks its tokens on one clock.) 0 refuses a
   * token the second it expires, which needs clocks synchronised with the issuer's.
   */
  clockToleranceSeconds?: number;
  /** How long fetched keys are used before a refetch (ms). Default 5 minutes. */
  jwksCacheMaxAgeMs?: number;
  /** Minimum time between JWKS refetches for unknown kids (ms). Default 30 s. */
  jwksCooldownMs?: number;
  /** JWKS request timeout (ms). Default 5 s. */
  jwksTimeoutMs?: number;
  /** Current time in ms for the token's time claims (tests inject one). Default `Date.now`. */
  now?: () => number;
  /**
   * Refuse tokens of revoked sessions, from the issuer's revocation list polled in the background
   * (`true` for the defaults: `${issuer}/.well-known/gatehouse-revocations`, every 1000 ms, stale after
   * 30 s). A revocation is seen within about `pollMs` plus one request; once the list is older than
   * `maxStaleMs`, or before it was ever fetched, `verify()` throws `RevocationsUnavailableError`.
   * Default off: tokens are trusted until they expire.
   */
  revocations?: boolean | RevocationPollOptions;
  /** DPoP-bound tokens (RFC 9449). Without it, a bound token is refused (its proof cannot be checked). */
  dpop?: DpopOptions;
}

export interface DpopOptions {
  /** This service's public origin, e.g. `https://api.example.com`: the `htu` of proofs sent to it. */
  origin: string;
  /** How far a proof's `iat` may be from now, either way (seconds). Default 60, as Gatehouse. */
  windowSeconds?: number;
  /**
   * Remembers proof ids: resolves true the first time `id` is seen (until `expiresAt`, ms), false for a
   * replay. Default: process memory (a replay to another instance of this service is not seen).
   */
  replay?: (id: string, expiresAt: number) => boolean | Promise<boolean>;
}

/** How a request presents a DPoP-bound token: its proof and the request it must match. */
export interface DpopPresentation {
  /** The `DPoP` header (undefined when absent). */
  proof: string | undefined;
  method: string;
  /** The path (and query) the request was sent to; the origin is `dpop.origin`. */
  path: string;
}

export type VerifyFailure = 'invalid_token' | 'invalid_dpop_proof';

export interface Verifier {
  /**
   * The token's claims if it is a valid Gatehouse access token (and, with `revocations`, its session is
   * not on the issuer's revocation list), else null. Throws only on an outage: `JwksUnavailableError`
   * when the keys cannot be fetched, `RevocationsUnavailableError` when the revocation list is stale.
   */
  verify(token: string, dpop?: DpopPresentation): Promise<GatehouseClaims | null>;
  /** Like `verify`, with the reason of a refusal (the middleware answers DPoP errors with it). */
  check?(token: string, dpop?: DpopPresentation): Promise<{ claims: GatehouseClaims } | { error: VerifyFailure; reason: string }>;
  /** Stops background work (revocation polling). Optional so that hand-written verifiers stay valid. */
  close?(): void;
}

const ASYMMETRIC: ReadonlySet<string> = new Set(['EdDSA', 'ES256', 'RS256']);
const FORBIDDEN_HEADERS = ['jwk', 'jku', 'x5u', 'x5c', 'x5t', 'x5t#S256', 'crit'];
const SEGMENT = /^[A-Za-z0-9_-]+$/;
const MAX_TOKEN_CHARS = 8192;

/** Raised when the issuer's keys cannot be fetched: an outage, not a bad token. */
export class JwksUnavailableError extends Error {
  constructor(cause: unknown) {
    super('the issuer JWKS could not be fetched', { cause });
    this.name = 'JwksUnavailableError';
  }
}

/** Creates a verifier for one issuer and audience. Misconfiguration is a TypeError here, not at request time. */
export function createVerifier(options: VerifierOptions): Verifier & { close(): void } {
  const issuer = typeof options.issuer === 'string' ? options.issuer.replace(/\/+$/, '') : '';
  if (!/^https?:\/\/[^/]/.test(issuer)) throw new TypeError('createVerifier: "issuer" must be the issuer URL');
  if (typeof options.audience !== 'string' || options.audience === '') throw new TypeError('createVerifier: "audience" is required');
  const algorithms = options.algorithms ?? ['EdDSA', 'ES256', 'RS256'];
  if (algorithms.length === 0 || algorithms.some((a) => !ASYMMETRIC.has(a))) {
    throw new TypeError('createVerifier: "algorithms" may only list EdDSA, ES256 and RS256 (a JWKS never carries a shared secret)');
  }
  const jwksUrl = new URL(options.jwksUrl ?? `${issuer}/.well-known/jwks.json`);
  const now = options.now ?? Date.now;
  const keys: JWTVerifyGetKey = createRemoteJWKSet(jwksUrl, {
    cacheMaxAge: options.jwksCacheMaxAgeMs ?? 5 * 60_000,
    cooldownDuration: options.jwksCooldownMs ?? 30_000,
    timeoutDuration: options.jwksTimeoutMs ?? 5_000,
  });
  const maxAge = options.maxAgeSeconds ?? 3600;
  const tolerance = options.clockToleranceSeconds ?? 30;
  if (typeof tolerance !== 'number' || !Number.isFinite(tolerance) || tolerance < 0) throw new TypeError('createVerifier: "clockToleranceSeconds" must be a number of seconds, 0 or more');
  const r = options.revocations;
  if (r !== undefined && typeof r !== 'boolean' && (r === null || typeof r !== 'object')) throw new TypeError('createVerifier: "revocations" must be a boolean or an options object');
  const revocations = r ? new RevocationPoller(issuer, r === true ? {} : r) : null;
  const dpop = dpopChecker(options.dpop, now);

  const verifyToken = async (token: string): Promise<GatehouseClaims | null> => {
      if (typeof token !== 'string' || token.length > MAX_TOKEN_CHARS) return null;
      const parts = token.split('.');
      if (parts.length !== 3 || !parts.every((p) => SEGMENT.test(p))) return null;
      let header: Record<string, unknown>;
      try {
        header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')) as Record<string, unknown>;
      } catch {
        return null;
      }
      if (header === null || typeof header !== 'object' || Array.isArray(header)) return null;
      if (typeof header.kid !== 'string' || typeof header.alg !== 'string' || !algorithms.includes(header.alg as VerifierAlgorithm)) return null;
      for (const f of FORBIDDEN_HEADERS) if (f in header) return null;
      let claims: GatehouseClaims;
      try {
        const { payload } = await jwtVerify(token, keys, {
          algorithms,
          issuer,
          audience: options.audience,
          typ: 'at+jwt',
          requiredClaims: ['exp', 'iat', 'sub', 'sid', 'jti'],
          maxTokenAge: maxAge,
          clockTolerance: tolerance,
          currentDate: new Date(now()),
        });
        const c = payload as GatehouseClaims;
        if (typeof c.sub !== 'string' || typeof c.sid !== 'string' || typeof c.jti !== 'string') return null;
        // Gatehouse never issues a token living longer than its maximum age.
        if (c.exp - c.iat > maxAge + tolerance) return null;
        claims = c;
      } catch (e) {
        if (e instanceof joseErrors.JWKSTimeout || e instanceof joseErrors.JWKSInvalid) throw new JwksUnavailableError(e);
        if (e instanceof joseErrors.JOSEError) return null;
        // fetch() failing (connection refused, DNS) surfaces as a TypeError from undici.
        if (e instanceof TypeError && /fetch/i.test(e.message)) throw new JwksUnavailableError(e);
        if (e instanceof TypeError || e instanceof SyntaxError) return null;
        throw e;
      }
      // Only a token that is otherwise valid needs the list: a bad token is refused even during an outage.
      if (revocations && (await revocations.isRevoked(claims.sid))) return null;
      return claims;
  };

  const check: NonNullable<Verifier['check']> = async (token, presentation) => {
    const claims = await verifyToken(token);
    if (!claims) return { error: 'invalid_token', reason: 'the access token is invalid or expired' };
    const jkt = typeof (claims.cnf as { jkt?: unknown } | undefined)?.jkt === 'string' ? (claims.cnf as { jkt: string }).jkt : undefined;
    if (presentation === undefined) return jkt === undefined ? { claims } : { error: 'invalid_token', reason: 'a DPoP-bound token must be presented as DPoP' };
    if (jkt === undefined) return { error: 'invalid_token', reason: 'the token is not DPoP-bound' };
    if (!dpop) return { error: 'invalid_dpop_proof', reason: 'this service does not accept DPoP (set dpop.origin)' };
    const r = await dpop(token, presentation);
    if (typeof r === 'string') return { error: 'invalid_dpop_proof', reason: r };
    if (r.jkt !== jkt) return { error: 'invalid_dpop_proof', reason: 'the proof is not signed by the key the token is bound to' };
    return { claims };
  };

  return {
    close() {
      revocations?.close();
    },
    check,
    async verify(token: string, presentation?: DpopPresentation): Promise<GatehouseClaims | null> {
      const r = await check(token, presentation);
      return 'claims' in r ? r.claims : null;
    },
  };
}

/** The DPoP proof check of a verifier: resolves the proof key's thumbprint, or why it was refused. */
function dpopChecker(o: DpopOptions | undefined, now: () => number): ((token: string, p: DpopPresentation) => Promise<{ jkt: string } | string>) | null {
  if (o === undefined) return null;
  let origin: string;
  try {
    origin = new URL(o.origin).origin;
  } catch {
    throw new TypeError('createVerifier: "dpop.origin" must be this service\'s origin, e.g. https://api.example.com');
  }
  if (origin === 'null' || origin !== o.origin.replace(/\/+$/, '')) throw new TypeError('createVerifier: "dpop.origin" must be an origin (scheme, host and port only)');
  const windowMs = (o.windowSeconds ?? 60) * 1000;
  const headers = new ProofHeaderCache(10_000);
  const seen = new ExpiringCache<string, true>(100_000);
  const replay =
    o.replay ??
    ((id: string, expiresAt: number) => {
      const t = now();
      if (seen.get(id, t)) return false;
      seen.set(id, true, expiresAt);
      return true;
    });
  return async (token, p) => {
    const q = p.path.indexOf('?');
    const url = origin + (q < 0 ? p.path : p.path.slice(0, q));
    const t = now();
    const r = await checkDpopProof(p.proof, { method: p.method, url, accessToken: token, now: t, windowMs, algs: DPOP_ALGS }, headers);
    if (!r.ok) return r.reason;
    if (!(await replay(r.proof.jtiHash, r.proof.iat * 1000 + windowMs + 1000))) return 'the proof was already used';
    return { jkt: r.proof.jkt };
  };
}

declare module 'express-serve-static-core' {
  interface Request {
    /** Set by `requireGatehouseToken` to the verified access-token claims. */
    gatehouseClaims?: GatehouseClaims;
  }
}

const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;
const DPOP = /^DPoP +([A-Za-z0-9\-._~+/]+=*) *$/i;

function problem(res: Response, status: number, code: string, title: string, scheme: 'Bearer' | 'DPoP' = 'Bearer'): void {
  if (status === 401) {
    if (scheme === 'DPoP' || code === 'invalid_dpop_proof') res.setHeader('WWW-Authenticate', `DPoP error="${code === 'unauthenticated' ? 'invalid_token' : code}", algs="${DPOP_ALGS.join(' ')}"`);
    else res.setHeader('WWW-Authenticate', code === 'invalid_token' ? 'Bearer error="invalid_token"' : 'Bearer');
  }
  res.setHeader('Cache-Control', 'no-store');
  res.status(status).type('application/problem+json').send(JSON.stringify({ type: `https://gatehouse.dev/problems/${code}`, title, status, code }));
}

/**
 * Express middleware: 401 problem+json (RFC 6750 `WWW-Authenticate`) unless the request carries a
 * valid Gatehouse access token in its Authorization header (never the query string); sets
 * `req.gatehouseClaims`. Answers 503 problem+json (with Retry-After) when the issuer's keys cannot be
 * fetched or, with `revocations`, when the revocation list is stale.
 */
export function requireGatehouseToken(verifier: Verifier): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const h = req.headers.authorization;
    if (h === undefined) return problem(res, 401, 'unauthenticated', 'Sign in to continue.');
    const bearer = BEARER.exec(h);
    const dpop = bearer ? null : DPOP.exec(h);
    const m = bearer ?? dpop;
    if (!m) return problem(res, 401, 'invalid_token', 'The access token is invalid or expired.');
    const scheme = dpop ? 'DPoP' : 'Bearer';
    const proof = req.headers.dpop;
    const presentation: DpopPresentation | undefined = dpop ? { proof: typeof proof === 'string' ? proof : undefined, method: req.method, path: req.originalUrl } : undefined;
    const checked = verifier.check
      ? verifier.check(m[1]!, presentation)
      : verifier.verify(m[1]!, presentation).then((claims) => (claims ? { claims } : { error: 'invalid_token' as const, reason: '' }));
    checked.then(
      (r) => {
        if ('error' in r) {
          if (r.error === 'invalid_dpop_proof') return problem(res, 401, 'invalid_dpop_proof', 'The DPoP proof is missing or invalid.', scheme);
          return problem(res, 401, 'invalid_token', 'The access token is invalid or expired.', scheme);
        }
        req.gatehouseClaims = r.claims;
        next();
      },
      (err: unknown) => {
        if (err instanceof JwksUnavailableError || err instanceof RevocationsUnavailableError) {
          res.setHeader('Retry-After', '5');
          return problem(res, 503, 'store_unavailable', 'Service temporarily unavailable; try again shortly.');
        }
        next(err);
      },
    );
  };
}
