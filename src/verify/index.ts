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
}

export interface Verifier {
  /**
   * The token's claims if it is a valid Gatehouse access token (and, with `revocations`, its session is
   * not on the issuer's revocation list), else null. Throws only on an outage: `JwksUnavailableError`
   * when the keys cannot be fetched, `RevocationsUnavailableError` when the revocation list is stale.
   */
  verify(token: string): Promise<GatehouseClaims | null>;
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

  return {
    close() {
      revocations?.close();
    },
    async verify(token: string): Promise<GatehouseClaims | null> {
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
    },
  };
}

declare module 'express-serve-static-core' {
  interface Request {
    /** Set by `requireGatehouseToken` to the verified access-token claims. */
    gatehouseClaims?: GatehouseClaims;
  }
}

const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

function problem(res: Response, status: number, code: string, title: string): void {
  if (status === 401) res.setHeader('WWW-Authenticate', code === 'invalid_token' ? 'Bearer error="invalid_token"' : 'Bearer');
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
    const m = BEARER.exec(h);
    if (!m) return problem(res, 401, 'invalid_token', 'The access token is invalid or expired.');
    verifier.verify(m[1]!).then(
      (claims) => {
        if (!claims) return problem(res, 401, 'invalid_token', 'The access token is invalid or expired.');
        req.gatehouseClaims = claims;
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
