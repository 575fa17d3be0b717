/**
 * Proof-of-possession clients for tests, built from the specifications rather than from Gatehouse's
 * code: a DPoP client key (RFC 9449 proofs) and a DBSC browser (the W3C draft's registration and
 * refresh proofs and headers). Both sign with `jose`; malformed variants are made by overriding
 * header or claims.
 */
import { createServer } from 'node:net';
import { calculateJwkThumbprint, CompactSign, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { parseItem, parseList, Token } from 'structured-headers';
import { randomBytes, createHash } from 'node:crypto';
import { startTestServer, type TestServer } from './server.js';
import type { GatehouseConfigInput } from '../../src/config.js';
import type { Stores } from '../../src/ports.js';
import type { TestClock } from './clock.js';

/** A server whose public URL is its own address, so that proofs name the URI requests really go to. */
export async function startPopServer(opts: { config?: GatehouseConfigInput; stores?: Stores; clock?: TestClock } = {}): Promise<TestServer> {
  const port = await new Promise<number>((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  return startTestServer({ ...opts, port, config: { publicUrl: `http://127.0.0.1:${port}`, ...(opts.config ?? {}) } });
}

export const ath = (token: string) => createHash('sha256').update(token).digest('base64url');
export const jtiOf = () => randomBytes(16).toString('base64url');

export interface ProofOptions {
  htm: string;
  htu: string;
  accessToken?: string;
  nonce?: string;
  /** Seconds; default now (the server's clock in tests that move it). */
  iat?: number;
  jti?: string;
  /** Replaces or removes (undefined) claims. */
  claims?: Record<string, unknown>;
  /** Replaces or removes (undefined) protected-header members. */
  header?: Record<string, unknown>;
  /** Sign with this key instead (the header still shows this client's key). */
  signWith?: CryptoKey;
}

/** A DPoP client: one key pair, proofs on demand. */
export class DpopKey {
  private constructor(
    readonly alg: 'ES256' | 'EdDSA',
    readonly privateKey: CryptoKey,
    readonly jwk: JWK,
    readonly jkt: string,
    private readonly now: () => number,
  ) {}

  static async create(alg: 'ES256' | 'EdDSA' = 'ES256', now: () => number = Date.now): Promise<DpopKey> {
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
    const jwk = await exportJWK(publicKey);
    return new DpopKey(alg, privateKey, jwk, await calculateJwkThumbprint(jwk, 'sha256'), now);
  }

  async privateJwk(): Promise<JWK> {
    return exportJWK(this.privateKey);
  }

  async proof(o: ProofOptions): Promise<string> {
    const claims: Record<string, unknown> = {
      jti: o.jti ?? jtiOf(),
      htm: o.htm,
      htu: o.htu,
      iat: o.iat ?? Math.floor(this.now() / 1000),
      ...(o.accessToken !== undefined ? { ath: ath(o.accessToken) } : {}),
      ...(o.nonce !== undefined ? { nonce: o.nonce } : {}),
    };
    for (const [k, v] of Object.entries(o.claims ?? {})) {
      if (v === undefined) delete claims[k];
      else claims[k] = v;
    }
    const header: Record<string, unknown> = { typ: 'dpop+jwt', alg: this.alg, jwk: this.jwk };
    for (const [k, v] of Object.entries(o.header ?? {})) {
      if (v === undefined) delete header[k];
      else header[k] = v;
    }
    return new SignJWT(claims).setProtectedHeader(header as never).sign(o.signWith ?? this.privateKey);
  }
}

/** The parts of `Secure-Session-Registration` a browser uses. */
export interface RegistrationOffer {
  algs: string[];
  path: string;
  challenge: string;
}

export function parseRegistration(header: string | null): RegistrationOffer | null {
  if (!header) return null;
  const [first] = parseList(header);
  if (!first) return null;
  const [items, params] = first;
  if (!Array.isArray(items)) return null;
  return {
    algs: items.map(([t]) => (t instanceof Token ? t.toString() : String(t))),
    path: String(params.get('path')),
    challenge: String(params.get('challenge')),
  };
}

export function parseChallenge(header: string | null): { challenge: string; id: string } | null {
  if (!header) return null;
  const [value, params] = parseItem(header);
  return { challenge: String(value), id: String(params.get('id')) };
}

/**
 * A DBSC browser as the W3C draft describes it (and Chrome sends it): an ES256 key per session, a
 * registration proof with the public key in the header `jwk` and the challenge as `jti`, refresh
 * proofs without a key, sent as a structured-field string in `Secure-Session-Response`.
 */
export class DbscBrowser {
  private constructor(
    readonly privateKey: CryptoKey,
    readonly jwk: JWK,
    private readonly now: () => number,
  ) {}

  static async create(now: () => number = Date.now): Promise<DbscBrowser> {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    return new DbscBrowser(privateKey, await exportJWK(publicKey), now);
  }

  /** A `dbsc+jwt`; `payload` members set to undefined are left out. */
  async sign(payload: Record<string, unknown>, header: Record<string, unknown> = {}, key: CryptoKey = this.privateKey): Promise<string> {
    const h: Record<string, unknown> = { alg: 'ES256', typ: 'dbsc+jwt', ...header };
    for (const k of Object.keys(h)) if (h[k] === undefined) delete h[k];
    const p = Object.fromEntries(Object.entries(payload).filter(([, v]) => v !== undefined));
    return new CompactSign(new TextEncoder().encode(JSON.stringify(p))).setProtectedHeader(h as never).sign(key);
  }

  registrationProof(challenge: string, extra: Record<string, unknown> = {}, header: Record<string, unknown> = {}): Promise<string> {
    return this.sign({ jti: challenge, ...extra }, { jwk: this.jwk, ...header });
  }

  refreshProof(challenge: string, extra: Record<string, unknown> = {}, header: Record<string, unknown> = {}): Promise<string> {
    return this.sign({ jti: challenge, ...extra }, header);
  }

  /** The value of `Secure-Session-Response`: a structured-field string. */
  static header(jwt: string): string {
    return `"${jwt}"`;
  }

  iat(): number {
    return Math.floor(this.now() / 1000);
  }
}
