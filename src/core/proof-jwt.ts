/**
 * Proof-of-possession JWTs (DPoP proofs, RFC 9449; DBSC proofs, W3C) checked with `jose`: the
 * signature by `compactVerify`/`jwtVerify`, the RFC 7638 thumbprint by `calculateJwkThumbprint`.
 * This module holds what both kinds share and depends on nothing but jose and node:crypto, so the
 * verifier other services import (`gatehouse/verify`) checks DPoP proofs with the same code.
 *
 * A proof's protected header carries the public key it is signed with. Parsing, checking, importing
 * and thumbprinting that key costs far more than the signature check itself, and one client sends
 * the same header on every request, so the result is cached by the header's exact base64url text:
 * the steady state is one map lookup, the signature check, and the claims.
 */
import { calculateJwkThumbprint, errors as joseErrors, importJWK, jwtVerify, type CryptoKey, type JWK } from 'jose';
import { ExpiringCache } from './cache.js';
import { b64url, sha256 } from './crypto.js';

/** Algorithms a DPoP proof may use. One curve each: the key type pins the algorithm. */
export const DPOP_ALGS = ['ES256', 'EdDSA'] as const;
export type DpopAlg = (typeof DPOP_ALGS)[number];

/** Members only a private (or symmetric) JWK has: a proof header carrying any of them is refused. */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
/** Header members that would name another key or demand extensions. */
const FOREIGN_HEADERS = ['jku', 'x5u', 'x5c', 'kid', 'crit'];
const SEGMENT = /^[A-Za-z0-9_-]+$/;
/** Anything longer is refused before parsing. */
export const MAX_PROOF_CHARS = 4096;

/** A verified key from a proof header: its thumbprint and the imported public key. */
export interface EmbeddedKey {
  jkt: string;
  alg: string;
  key: CryptoKey;
  /** The public JWK in canonical form (the members RFC 7638 hashes, in its order), as JSON. */
  canonical: string;
}

/** The JWK a key type and curve must have for each algorithm. */
const KEY_SHAPE: Record<string, { kty: string; crv: string; members: string[] }> = {
  ES256: { kty: 'EC', crv: 'P-256', members: ['crv', 'kty', 'x', 'y'] },
  EdDSA: { kty: 'OKP', crv: 'Ed25519', members: ['crv', 'kty', 'x'] },
};

/** Splits a compact JWS strictly: three non-empty, canonical base64url segments. */
export function splitCompact(jwt: string, maxChars = MAX_PROOF_CHARS): [string, string, string] | null {
  if (typeof jwt !== 'string' || jwt.length > maxChars) return null;
  const parts = jwt.split('.');
  if (parts.length !== 3) return null;
  for (const p of parts) {
    if (!p || !SEGMENT.test(p)) return null;
    // A last character differing only in unused bits decodes to the same bytes: one proof, two spellings.
    if (Buffer.from(p, 'base64url').toString('base64url') !== p) return null;
  }
  return parts as [string, string, string];
}

export function decodeSegment(seg: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(Buffer.from(seg, 'base64url').toString('utf8'));
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** base64url(SHA-256(text)): the `ath` of an access token, and how proof ids are kept. */
export function sha256b64(text: string): string {
  return b64url(sha256(text));
}

/**
 * Imports the public JWK of a proof header for `alg` and computes its thumbprint. Null with a reason
 * when the key is not a public key of the one shape the algorithm allows.
 */
export async function importPublicJwk(jwk: unknown, alg: string): Promise<EmbeddedKey | string> {
  const shape = KEY_SHAPE[alg];
  if (!shape) return `alg ${alg} is not accepted`;
  if (jwk === null || typeof jwk !== 'object' || Array.isArray(jwk)) return 'the header has no jwk object';
  const j = jwk as Record<string, unknown>;
  for (const m of PRIVATE_MEMBERS) if (m in j) return 'the jwk holds private key material';
  if (j.kty !== shape.kty || j.crv !== shape.crv) return `the jwk is not a ${shape.crv} key for ${alg}`;
  for (const m of shape.members) if (typeof j[m] !== 'string') return `the jwk has no "${m}"`;
  const pub: JWK = Object.fromEntries(shape.members.map((m) => [m, j[m]]));
  let key: CryptoKey;
  try {
    const k = await importJWK(pub, alg);
    if (k instanceof Uint8Array) return 'the jwk is not a public key';
    key = k;
  } catch {
    return 'the jwk is not a valid public key';
  }
  if (key.type !== 'public') return 'the jwk is not a public key';
  const jkt = await calculateJwkThumbprint(pub, 'sha256');
  return { jkt, alg, key, canonical: JSON.stringify(pub) };
}

/** Protected headers already checked and imported, by their exact base64url text. */
export class ProofHeaderCache {
  private readonly cache: ExpiringCache<string, EmbeddedKey>;

  constructor(maxEntries: number, private readonly ttlMs = 3_600_000) {
    this.cache = new ExpiringCache(maxEntries);
  }

  /**
   * The key a DPoP proof header carries: `typ` dpop+jwt, an accepted `alg`, a public `jwk` of the
   * shape that algorithm allows, nothing naming another key. A reason string when refused.
   */
  async dpop(headerSeg: string, algs: readonly string[], now: number): Promise<EmbeddedKey | string> {
    const hit = this.cache.get(headerSeg, now);
    if (hit) return algs.includes(hit.alg) ? hit : `alg ${hit.alg} is not accepted`;
    const h = decodeSegment(headerSeg);
    if (!h) return 'the header is not a JSON object';
    if (h.typ !== 'dpop+jwt') return 'typ must be dpop+jwt';
    if (typeof h.alg !== 'string' || !algs.includes(h.alg)) return `alg must be one of ${algs.join(', ')}`;
    for (const f of FOREIGN_HEADERS) if (f in h) return `the header must not carry "${f}"`;
    const k = await importPublicJwk(h.jwk, h.alg);
    // Only good headers are cached: a flood of bad ones costs its senders, not the cache.
    if (typeof k !== 'string') this.cache.set(headerSeg, k, now + this.ttlMs);
    return k;
  }
}

/** RFC 9449 §4.3: the request URI without query and fragment, scheme and host normalised. */
export function normalizeHtu(url: string): string | null {
  try {
    const u = new URL(url);
    if (u.protocol !== 'https:' && u.protocol !== 'http:') return null;
    if (u.username || u.password) return null;
    return `${u.origin}${u.pathname}`;
  } catch {
    return null;
  }
}

export interface DpopExpectation {
  /** The request's method, e.g. `GET`. */
  method: string;
  /** The request's URI as the client addressed it (query and fragment are ignored). */
  url: string;
  /** The access token presented with the proof (resource requests): `ath` must be its hash. */
  accessToken?: string;
  now: number;
  /** How far `iat` may be from `now`, either way (ms). */
  windowMs: number;
  algs: readonly string[];
}

export interface DpopProof {
  jkt: string;
  /** The proof id with its key's thumbprint, hashed (what replay caches keep). */
  jtiHash: string;
  iat: number;
  nonce: string | undefined;
}

export type DpopCheck = { ok: true; proof: DpopProof } | { ok: false; reason: string };

const fail = (reason: string): DpopCheck => ({ ok: false, reason });

/**
 * Verifies one DPoP proof (RFC 9449 §4.3) except for what needs shared state: replay of its `jti`
 * and the validity of its `nonce`, which the caller checks with the returned values.
 */
export async function checkDpopProof(proof: string | undefined, x: DpopExpectation, headers: ProofHeaderCache): Promise<DpopCheck> {
  if (proof === undefined || proof === '') return fail('no DPoP proof');
  const parts = splitCompact(proof);
  if (!parts) return fail('the proof is not a compact JWS');
  const key = await headers.dpop(parts[0], x.algs, x.now);
  if (typeof key === 'string') return fail(key);
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(proof, key.key, { algorithms: [key.alg], typ: 'dpop+jwt', currentDate: new Date(x.now) }));
  } catch (e) {
    if (e instanceof joseErrors.JOSEError || e instanceof TypeError) return fail('the proof signature or claims are invalid');
    throw e;
  }
  if (typeof payload.jti !== 'string' || payload.jti.length === 0 || payload.jti.length > 256) return fail('jti is missing');
  if (payload.htm !== x.method) return fail('htm does not match the request method');
  if (typeof payload.htu !== 'string') return fail('htu is missing');
  const htu = normalizeHtu(payload.htu);
  if (htu === null || htu !== normalizeHtu(x.url)) return fail('htu does not match the request URI');
  if (typeof payload.iat !== 'number' || !Number.isFinite(payload.iat)) return fail('iat is missing');
  if (Math.abs(x.now - payload.iat * 1000) > x.windowMs) return fail('iat is outside the accepted window');
  if (x.accessToken !== undefined) {
    if (typeof payload.ath !== 'string') return fail('ath is missing');
    if (payload.ath !== sha256b64(x.accessToken)) return fail('ath does not match the access token');
  }
  if (payload.nonce !== undefined && typeof payload.nonce !== 'string') return fail('nonce must be a string');
  return { ok: true, proof: { jkt: key.jkt, jtiHash: sha256b64(`${key.jkt}:${payload.jti}`), iat: payload.iat, nonce: payload.nonce as string | undefined } };
}
