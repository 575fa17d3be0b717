import { createHmac, hash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock, Random } from '../ports.js';
import { canOwn, MAX_USER_ID_LENGTH, ownedId } from '../ids.js';

export const systemClock: Clock = { now: () => Date.now() };
export const systemRandom: Random = { bytes: (n) => randomBytes(n) };

const ID_BYTES = 16; // 128-bit ids: unguessable handles
const SECRET_BYTES = 32; // 256-bit secrets

/** base64url without padding. */
export function b64url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

export function randomId(random: Random, bytes = ID_BYTES): string {
  return b64url(random.bytes(bytes));
}

/** One-shot `crypto.hash` (Node ≥ 20.12): no Hash object per call; it runs on every cookie request. */
export function sha256(data: string | Uint8Array): Uint8Array {
  return hash('sha256', data, 'buffer');
}

export function hmacSha256(key: Uint8Array, data: Uint8Array | string): Uint8Array {
  return createHmac('sha256', key).update(data).digest();
}

/** Constant-time equality of two byte strings (false on length mismatch). */
export function safeEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && timingSafeEqual(a, b);
}

/** A bearer secret of the form `id.secret`: id is public, only sha256(secret) is stored. */
export interface SplitToken {
  id: string;
  secret: string;
}

const B64URL = /^[A-Za-z0-9_-]+$/;
const ID_LEN = 22; // base64url of 16 bytes
const SECRET_LEN = 43; // base64url of 32 bytes

/**
 * A new `id.secret`. With `owner`, the id names that user where it can (see ../ids.ts): sessions and
 * refresh tokens; without, a plain 22-character id (one-time tokens).
 */
export function newSplitToken(random: Random, owner?: string): { id: string; secret: string; token: string; secretHash: Uint8Array } {
  const id = owner === undefined ? randomId(random) : newOwnedId(random, owner);
  const secret = b64url(random.bytes(SECRET_BYTES));
  return { id, secret, token: `${id}.${secret}`, secretHash: sha256(secret) };
}

/** A new id that names its user (see ../ids.ts); a plain id for a user id that cannot be named. */
export function newOwnedId(random: Random, owner: string): string {
  return canOwn(owner) ? ownedId(randomId(random), owner) : randomId(random);
}

/**
 * Parses `id.secret` strictly: a base64url id of 22 characters, or of 22 plus a user id of at most
 * 64 (an owned id), a dot, and a 43-character base64url secret. Anything else is null.
 */
export function parseSplitToken(token: string | undefined | null): SplitToken | null {
  if (typeof token !== 'string') return null;
  const n = token.length;
  if (n < ID_LEN + 1 + SECRET_LEN || n > ID_LEN + MAX_USER_ID_LENGTH + 1 + SECRET_LEN) return null;
  const dot = n - SECRET_LEN - 1;
  if (token.charCodeAt(dot) !== 46 /* . */) return null;
  const id = token.slice(0, dot);
  const secret = token.slice(dot + 1);
  if (!B64URL.test(id) || !B64URL.test(secret)) return null;
  return { id, secret };
}

export function secretMatches(secret: string, storedHash: Uint8Array): boolean {
  return safeEqual(sha256(secret), storedHash);
}

/**
 * Time-ordered unique id (48-bit ms timestamp + 80 random bits, base32hex so that string order is
 * time order). Used for audit events, whose id is also the pagination cursor.
 */
export function timeOrderedId(now: number, random: Random): string {
  const alphabet = '0123456789abcdefghijklmnopqrstuv';
  let t = now;
  let head = '';
  for (let i = 0; i < 10; i++) {
    head = alphabet[t % 32] + head;
    t = Math.floor(t / 32);
  }
  const r = random.bytes(10);
  let tail = '';
  for (let i = 0; i < 10; i++) tail += alphabet[r[i]! & 31];
  return head + tail;
}
