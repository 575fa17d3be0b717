/**
 * Password hashing with argon2id. The work runs in a PasswordHashEngine: by default in this process
 * (the `argon2` package runs the hash on libuv's threadpool, so a login costs the event loop nothing
 * while the hash runs; nothing here may switch to a sync variant); the composition root may inject a
 * low-priority pool with admission control instead (src/hashing/pool.ts).
 */
import { randomBytes } from 'node:crypto';
import * as argon2 from 'argon2';
import { isGatehouseError } from '../errors.js';
import type { PasswordHashEngine } from '../ports.js';
import { isWellFormedText } from './password-policy.js';

/** argon2id in this process, on libuv's thread pool. */
export const inProcessArgon2: PasswordHashEngine = {
  hash: (password, cost) => argon2.hash(password, { type: argon2.argon2id, ...cost }),
  verify: (encoded, password) => argon2.verify(encoded, password),
};

export interface Argon2Params {
  /** Memory in KiB (OWASP minimum 19456). */
  memoryCost: number;
  /** Iterations (OWASP minimum 2 at 19 MiB). */
  timeCost: number;
  /** Lanes. */
  parallelism: number;
}

/**
 * Hashes and verifies passwords with fixed argon2id parameters (from config.passwordHashing).
 *
 * Passwords are NFKC-normalised here as well as by the policy, so a login typed with a different but
 * equivalent spelling (fullwidth digits, a precomposed accent) verifies. NFKC is idempotent, so
 * hashing the policy's already-normalised result is the same as hashing the raw input.
 *
 * @example
 * const hasher = new PasswordHasher(config.passwordHashing);
 * const stored = await hasher.hash(password);
 * if (user ? await hasher.verify(user.passwordHash, password) : (await hasher.dummyVerify(password), false)) {
 *   if (hasher.needsRehash(user.passwordHash)) await users.setPasswordHash(user.id, await hasher.hash(password));
 * }
 */
export class PasswordHasher {
  readonly params: Readonly<Argon2Params>;
  #dummyHash: Promise<string> | null = null;
  #hashes = 0;
  #verifies = 0;

  /** argon2 computations started so far (new hashes, and verifications including the timing-equaliser's). */
  get stats(): { hashes: number; verifies: number } {
    return { hashes: this.#hashes, verifies: this.#verifies };
  }

  readonly #engine: PasswordHashEngine;

  constructor(params: Argon2Params, engine: PasswordHashEngine = inProcessArgon2) {
    this.#engine = engine;
    const { memoryCost, timeCost, parallelism } = params ?? ({} as Argon2Params);
    for (const [name, v] of [['memoryCost', memoryCost], ['timeCost', timeCost], ['parallelism', parallelism]] as const) {
      if (!Number.isSafeInteger(v) || v < 1) throw new TypeError(`PasswordHasher: ${name} must be a positive integer`);
    }
    // argon2 itself requires at least 8 KiB per lane.
    if (memoryCost < 8 * parallelism) throw new TypeError('PasswordHasher: memoryCost must be at least 8 KiB per lane');
    this.params = Object.freeze({ memoryCost, timeCost, parallelism });
  }

  /** An encoded argon2id hash (PHC string) with a fresh random salt. */
  hash(password: string): Promise<string> {
    if (typeof password !== 'string') throw new TypeError('PasswordHasher.hash: password must be a string');
    if (!isWellFormedText(password)) throw new TypeError('PasswordHasher.hash: password holds a lone UTF-16 surrogate (check it with checkPassword first)');
    this.#hashes += 1;
    return this.#engine.hash(password.normalize('NFKC'), this.params);
  }

  /**
   * True when `password` matches `storedHash`. A malformed or foreign stored hash is a failed
   * verification (false), never an exception: a corrupt row must not turn a login into a 500.
   * A password holding a lone surrogate never matches (it could otherwise stand in for U+FFFD); the
   * hash still runs, so it takes as long as any other wrong password.
   */
  async verify(storedHash: string, password: string): Promise<boolean> {
    if (typeof storedHash !== 'string' || typeof password !== 'string' || !storedHash.startsWith('$argon2')) return false;
    const wellFormed = isWellFormedText(password);
    try {
      this.#verifies += 1;
      return (await this.#engine.verify(storedHash, password.normalize('NFKC'))) && wellFormed;
    } catch (e) {
      // A busy pool is an answer for the client (503 + Retry-After), not a wrong password.
      if (isGatehouseError(e)) throw e;
      return false;
    }
  }

  /**
   * True when the stored hash was made with other parameters (or another argon2 variant, or is
   * unreadable), so the caller should rehash the password it just verified.
   */
  needsRehash(storedHash: string): boolean {
    if (typeof storedHash !== 'string' || !storedHash.startsWith('$argon2id$')) return true;
    try {
      return argon2.needsRehash(storedHash, { ...this.params, version: 0x13 });
    } catch {
      return true;
    }
  }

  /**
   * Spends the same work as a real verification, for a login whose email matched no user, so that
   * response time does not reveal which emails have accounts. The reference hash is made once, on
   * first use (call it at start-up to keep that first cost off a request).
   */
  async dummyVerify(password: string): Promise<void> {
    this.#dummyHash ??= this.#engine.hash(randomBytes(32).toString('base64url'), this.params);
    let reference: string;
    try {
      reference = await this.#dummyHash;
    } catch (e) {
      this.#dummyHash = null;
      throw e;
    }
    await this.verify(reference, typeof password === 'string' ? password : '');
  }
}
