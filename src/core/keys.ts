/**
 * The key ring: signing keys for access tokens, loaded from the KeyStore and generated at first start.
 *
 * One algorithm is pinned per key. Verification only ever uses keys from this ring, looked up by `kid`
 * as a map key (never as a path or query). Private keys are sealed with AES-256-GCM under a key derived
 * (HKDF-SHA256) from GATEHOUSE_SECRET when it is set; otherwise they rely on the store's file being
 * readable by its owner alone (the SQLite default creates it 0600).
 */
import { createPrivateKey, createPublicKey, createSecretKey, generateKeyPairSync, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { Clock, KeyRecord, KeyStore, Random, SigningAlg } from '../ports.js';
import { randomId } from './crypto.js';
import { seal, unseal } from './seal.js';

export interface ActiveKey {
  kid: string;
  alg: SigningAlg;
  /** Signing key (private, or the symmetric secret for HS256). */
  privateKey: KeyObject;
  /** Verification key (public, or the symmetric secret for HS256). */
  publicKey: KeyObject;
  record: KeyRecord;
}

export interface KeyRingOptions {
  alg: SigningAlg;
  secret: string | null;
  /** How long a retired key must keep verifying: the longest life of a token it signed. */
  verifyWindowMs: number;
}

const SEAL_INFO = 'gatehouse/private-key-seal/v1';

const sealKey = (secret: string, plaintext: string, random: Random) => seal(secret, plaintext, random, SEAL_INFO);
const openKey = (secret: string, sealed: string) => unseal(secret, sealed, SEAL_INFO);

function generate(alg: SigningAlg, random: Random): { privateJwk: JsonWebKey; publicJwk: JsonWebKey | null } {
  if (alg === 'HS256') {
    const k = createSecretKey(Buffer.from(random.bytes(32)));
    return { privateJwk: k.export({ format: 'jwk' }), publicJwk: null };
  }
  const pair =
    alg === 'EdDSA'
      ? generateKeyPairSync('ed25519')
      : alg === 'ES256'
        ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
        : generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { privateJwk: pair.privateKey.export({ format: 'jwk' }), publicJwk: pair.publicKey.export({ format: 'jwk' }) };
}

export class KeyRing {
  private keys = new Map<string, ActiveKey>();
  private signing: ActiveKey | null = null;
  private lastReload = 0;

  constructor(
    private readonly store: KeyStore,
    private readonly opts: KeyRingOptions,
    private readonly clock: Clock,
    private readonly random: Random,
  ) {}

  /** Loads the ring; generates and stores a signing key of the configured algorithm if there is none. */
  async init(): Promise<void> {
    await this.reload();
    if (!this.signing || this.signing.alg !== this.opts.alg) {
      await this.addKey();
      await this.reload();
    }
  }

  async reload(): Promise<void> {
    const now = this.clock.now();
    this.lastReload = now;
    const records = await this.store.listKeys();
    const next = new Map<string, ActiveKey>();
    for (const r of records) {
      if (r.verifyUntil !== null && r.verifyUntil <= now) continue;
      next.set(r.kid, this.materialise(r));
    }
    this.keys = next;
    const candidates = [...next.values()]
      .filter((k) => k.record.retiredAt === null && k.alg === this.opts.alg)
      .sort((a, b) => b.record.createdAt - a.record.createdAt || (a.kid < b.kid ? -1 : 1));
    this.signing = candidates[0] ?? null;
  }

  /** Reloads when a token names a kid we don't know (another instance rotated), at most once a second. */
  async reloadForUnknownKid(): Promise<boolean> {
    if (this.clock.now() - this.lastReload < 1000) return false;
    await this.reload();
    return true;
  }

  private materialise(r: KeyRecord): ActiveKey {
    let privText = r.privateJwk;
    if (r.encrypted) {
      if (!this.opts.secret) throw new Error(`key ${r.kid} is sealed but GATEHOUSE_SECRET is not set`);
      privText = openKey(this.opts.secret, r.privateJwk);
    }
    const jwk = JSON.parse(privText) as JsonWebKey;
    if (r.alg === 'HS256') {
      const k = createSecretKey(Buffer.from(jwk.k as string, 'base64url'));
      return { kid: r.kid, alg: r.alg, privateKey: k, publicKey: k, record: r };
    }
    const privateKey = createPrivateKey({ key: jwk, format: 'jwk' });
    return { kid: r.kid, alg: r.alg, privateKey, publicKey: createPublicKey(privateKey), record: r };
  }

  private async addKey(): Promise<KeyRecord> {
    const { privateJwk, publicJwk } = generate(this.opts.alg, this.random);
    const text = JSON.stringify(privateJwk);
    const rec: KeyRecord = {
      kid: randomId(this.random, 12),
      alg: this.opts.alg,
      publicJwk: publicJwk ? JSON.stringify(publicJwk) : null,
      privateJwk: this.opts.secret ? sealKey(this.opts.secret, text, this.random) : text,
      encrypted: Boolean(this.opts.secret),
      createdAt: this.clock.now(),
      retiredAt: null,
      verifyUntil: null,
    };
    await this.store.addKey(rec);
    return rec;
  }

  /** Whether a signing key is loaded (readiness). */
  get loaded(): boolean {
    return this.signing !== null;
  }

  current(): ActiveKey {
    if (!this.signing) throw new Error('key ring not initialised');
    return this.signing;
  }

  /** The verification key for `kid`, or undefined. `kid` is only ever a map key. */
  get(kid: string): ActiveKey | undefined {
    const k = this.keys.get(kid);
    if (!k) return undefined;
    const until = k.record.verifyUntil;
    return until !== null && until <= this.clock.now() ? undefined : k;
  }

  /** Adds a new signing key; the previous ones stop signing and keep verifying for the verify window. */
  async rotate(): Promise<KeyRecord> {
    await this.reload();
    const now = this.clock.now();
    const old = [...this.keys.values()].filter((k) => k.record.retiredAt === null);
    const rec = await this.addKey();
    for (const k of old) await this.store.retireKey(k.kid, now, now + this.opts.verifyWindowMs);
    await this.reload();
    return rec;
  }

  /**
   * Retires one key. By default it keeps verifying for the verify window (no token is cut short);
   * `immediately` removes it at once, for a compromised key.
   */
  async retire(kid: string, immediately = false): Promise<boolean> {
    const now = this.clock.now();
    const ok = await this.store.retireKey(kid, now, immediately ? now : now + this.opts.verifyWindowMs);
    await this.reload();
    if (ok && !this.signing) await this.init();
    return ok;
  }

  async list(): Promise<KeyRecord[]> {
    return this.store.listKeys();
  }

  /** The public JWK Set: asymmetric keys that still verify. Never a symmetric secret. */
  jwks(): { keys: Array<Record<string, unknown>> } {
    const keys: Array<Record<string, unknown>> = [];
    for (const k of this.keys.values()) {
      if (!k.record.publicJwk) continue;
      const jwk = JSON.parse(k.record.publicJwk) as Record<string, unknown>;
      keys.push({ ...jwk, kid: k.kid, alg: k.alg, use: 'sig' });
    }
    return { keys };
  }
}
