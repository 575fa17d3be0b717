/**
 * The client side of DPoP (RFC 9449): one P-256 key pair per client, its private key created
 * non-extractable by WebCrypto (script on the page can use it while the page runs, but never read it
 * out, so a copied token is worth nothing elsewhere), kept in IndexedDB in browsers so that a reload
 * keeps the binding, and in memory in Node. Proofs are signed with `jose`.
 */
import { base64url, exportJWK, SignJWT, type JWK } from 'jose';

/** Where the client keeps its DPoP key pair. */
export interface DpopKeyStore {
  load(): Promise<CryptoKeyPair | null>;
  save(pair: CryptoKeyPair): Promise<void>;
  clear(): Promise<void>;
}

/** Keeps the key pair for the life of the process (Node, tests). */
export function memoryKeyStore(): DpopKeyStore {
  let pair: CryptoKeyPair | null = null;
  return {
    load: async () => pair,
    save: async (p) => {
      pair = p;
    },
    clear: async () => {
      pair = null;
    },
  };
}

/**
 * Keeps the key pair in IndexedDB (browsers store CryptoKey objects as they are: a non-extractable
 * private key stays non-extractable on disk and across reloads). `name` separates several clients.
 */
export function indexedDbKeyStore(name = 'gatehouse-dpop'): DpopKeyStore {
  const open = () =>
    new Promise<IDBDatabase>((resolve, reject) => {
      const req = indexedDB.open(name, 1);
      req.onupgradeneeded = () => req.result.createObjectStore('keys');
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  const run = async <T>(mode: IDBTransactionMode, fn: (s: IDBObjectStore) => IDBRequest): Promise<T> => {
    const db = await open();
    try {
      return await new Promise<T>((resolve, reject) => {
        const r = fn(db.transaction('keys', mode).objectStore('keys'));
        r.onsuccess = () => resolve(r.result as T);
        r.onerror = () => reject(r.error);
      });
    } finally {
      db.close();
    }
  };
  return {
    load: async () => (await run<CryptoKeyPair | undefined>('readonly', (s) => s.get('key'))) ?? null,
    save: async (pair) => {
      await run('readwrite', (s) => s.put(pair, 'key'));
    },
    clear: async () => {
      await run('readwrite', (s) => s.delete('key'));
    },
  };
}

/** The default store: IndexedDB where there is one (browsers), memory otherwise. */
export function defaultKeyStore(): DpopKeyStore {
  return typeof indexedDB === 'undefined' ? memoryKeyStore() : indexedDbKeyStore();
}

const randomId = () => base64url.encode(crypto.getRandomValues(new Uint8Array(16)));

/** Signs DPoP proofs with the client's key and remembers the server's nonces (`DPoP-Nonce`) by origin. */
export class DpopSigner {
  private pair: Promise<{ keys: CryptoKeyPair; jwk: JWK }> | null = null;
  private readonly nonces = new Map<string, string>();

  constructor(
    private readonly store: DpopKeyStore,
    private readonly now: () => number = Date.now,
  ) {}

  private keys(): Promise<{ keys: CryptoKeyPair; jwk: JWK }> {
    this.pair ??= (async () => {
      let keys = await this.store.load().catch(() => null);
      if (!keys) {
        // Not extractable: the private key can sign, never be exported.
        keys = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
        await this.store.save(keys).catch(() => undefined);
      }
      const full = await exportJWK(keys.publicKey);
      return { keys, jwk: { kty: full.kty, crv: full.crv, x: full.x, y: full.y } };
    })();
    this.pair.catch(() => (this.pair = null));
    return this.pair;
  }

  /** A proof for one request: `htm`, `htu` (without query or fragment), a fresh `jti`, the origin's nonce and, with a token, `ath`. */
  async proof(method: string, url: string, accessToken?: string): Promise<string> {
    const { keys, jwk } = await this.keys();
    const u = new URL(url);
    const claims: Record<string, unknown> = { htm: method, htu: `${u.origin}${u.pathname}`, jti: randomId(), iat: Math.floor(this.now() / 1000) };
    const nonce = this.nonces.get(u.origin);
    if (nonce !== undefined) claims.nonce = nonce;
    if (accessToken !== undefined) {
      claims.ath = base64url.encode(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(accessToken))));
    }
    return new SignJWT(claims).setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk }).sign(keys.privateKey);
  }

  /** Remembers the `DPoP-Nonce` of a response; true when it is new (a refused proof may then be retried). */
  remember(url: string, res: Response): boolean {
    const n = res.headers.get('dpop-nonce');
    if (n === null) return false;
    const origin = new URL(url).origin;
    if (this.nonces.get(origin) === n) return false;
    this.nonces.set(origin, n);
    return true;
  }

  /** Forgets the key (the next proof is made with a new one; sessions bound to the old key must sign in again). */
  async forget(): Promise<void> {
    this.pair = null;
    await this.store.clear();
  }
}

/** Whether a response refuses a proof for want of the server's nonce (RFC 9449 §8–9). */
export async function wantsNonce(res: Response): Promise<boolean> {
  if (res.status !== 400 && res.status !== 401) return false;
  if (/use_dpop_nonce/.test(res.headers.get('www-authenticate') ?? '')) return true;
  if (res.status !== 400 || !/json/.test(res.headers.get('content-type') ?? '')) return false;
  try {
    const body = (await res.clone().json()) as { error?: unknown };
    return body.error === 'use_dpop_nonce';
  } catch {
    return false;
  }
}
