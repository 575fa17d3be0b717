/**
 * DPoP (RFC 9449) as a use case: checks a proof for a request (signature, claims, the server nonce
 * when required, and that its `jti` was never seen before), and hands out nonces.
 *
 * Proof ids and nonces are kept in the ProofMarkStore, so they hold for every instance that shares
 * it: on Redis when one is configured, else in the SQL database (or process memory for the memory
 * store). A proof is a one-request credential: its id is remembered for as long as its `iat` keeps it
 * acceptable, and a second use anywhere is refused.
 */
import type { Clock, ProofMarkStore, Random } from '../ports.js';
import { ExpiringCache } from './cache.js';
import { randomId } from './crypto.js';
import { checkDpopProof, DPOP_ALGS, ProofHeaderCache, sha256b64 } from './proof-jwt.js';

export type DpopMode = 'off' | 'optional' | 'required';

export interface DpopPolicy {
  mode: DpopMode;
  /** Require a server nonce in every proof. */
  nonce: boolean;
  /** How far a proof's `iat` may be from now, either way (ms). */
  windowMs: number;
  cacheMaxEntries: number;
}

/** What a request to check looks like: its method, its URI as the client addressed it, and the access token it presents. */
export interface DpopRequest {
  /** The `DPoP` header (undefined when absent; two headers are no proof at all). */
  proof: string | undefined;
  method: string;
  url: string;
}

export type DpopOutcome =
  | { ok: true; jkt: string }
  | { ok: false; error: 'invalid_dpop_proof' | 'use_dpop_nonce'; reason: string };

/** Nonces live this long and a new one is made when the current one is half way through. */
export const NONCE_TTL_MS = 10 * 60_000;

/** The algorithms proofs may use, as `WWW-Authenticate: DPoP algs="…"` lists them. */
export const DPOP_ALGS_HEADER = DPOP_ALGS.join(' ');

const NONCE = /^([0-9a-z]{1,12})\.[A-Za-z0-9_-]{22}$/;

export class Dpop {
  private readonly headers: ProofHeaderCache;
  /** Nonces known to be this deployment's, until they expire (their expiry is part of the value). */
  private readonly nonces: ExpiringCache<string, true>;
  private current: { value: string; renewAt: number } | null = null;
  private making: Promise<string> | null = null;

  constructor(
    private readonly store: ProofMarkStore,
    readonly policy: DpopPolicy,
    private readonly clock: Clock,
    private readonly random: Random,
  ) {
    this.headers = new ProofHeaderCache(Math.max(1, Math.min(policy.cacheMaxEntries, 100_000)));
    this.nonces = new ExpiringCache(1024);
  }

  get mode(): DpopMode {
    return this.policy.mode;
  }

  /** Checks the proof of one request. `accessToken`: the token it presents (resource requests), whose hash `ath` must be. */
  async check(req: DpopRequest, accessToken?: string): Promise<DpopOutcome> {
    const now = this.clock.now();
    const r = await checkDpopProof(
      req.proof,
      { method: req.method, url: req.url, now, windowMs: this.policy.windowMs, algs: DPOP_ALGS, ...(accessToken !== undefined ? { accessToken } : {}) },
      this.headers,
    );
    if (!r.ok) return { ok: false, error: 'invalid_dpop_proof', reason: r.reason };
    const p = r.proof;
    // Before the replay mark: a proof refused for its nonce does not use up its id.
    if (this.policy.nonce && (p.nonce === undefined || !(await this.nonceValid(p.nonce, now)))) {
      return { ok: false, error: 'use_dpop_nonce', reason: p.nonce === undefined ? 'the proof has no nonce' : 'the nonce is unknown or expired' };
    }
    const acceptableUntil = p.iat * 1000 + this.policy.windowMs + 1000;
    if (!(await this.store.putProofMark('jti', p.jtiHash, acceptableUntil, now))) {
      return { ok: false, error: 'invalid_dpop_proof', reason: 'the proof was already used' };
    }
    return { ok: true, jkt: p.jkt };
  }

  /** The nonce to send in `DPoP-Nonce`: the current one, or a new one made and recorded for every instance. */
  async nonce(): Promise<string> {
    const now = this.clock.now();
    if (this.current && now < this.current.renewAt) return this.current.value;
    this.making ??= this.makeNonce(now).finally(() => (this.making = null));
    return this.making;
  }

  private async makeNonce(now: number): Promise<string> {
    const expiresAt = now + NONCE_TTL_MS;
    // The expiry travels in the nonce, so an instance that learns of it knows how long it holds.
    const value = `${expiresAt.toString(36)}.${randomId(this.random)}`;
    await this.store.putProofMark('nonce', sha256b64(value), expiresAt, now);
    this.nonces.set(value, true, expiresAt);
    this.current = { value, renewAt: now + NONCE_TTL_MS / 2 };
    return value;
  }

  private async nonceValid(value: string, now: number): Promise<boolean> {
    if (this.nonces.get(value, now)) return true;
    const m = NONCE.exec(value);
    const expiresAt = m ? parseInt(m[1]!, 36) : NaN;
    if (!Number.isFinite(expiresAt) || expiresAt <= now) return false;
    if (!(await this.store.hasProofMark('nonce', sha256b64(value), now))) return false;
    this.nonces.set(value, true, expiresAt);
    return true;
  }
}
