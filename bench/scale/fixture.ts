/**
 * The scale bench's population, derived from an index alone: session i belongs to user
 * `floor(i / SESSIONS_PER_USER)` (so the population grows without moving anyone), and its cookie (`id.secret`) and record follow from a run seed and i. The filler
 * writes records and the load generator rebuilds cookies from the same seed, so a million cookies
 * never pass between processes. Records are what SessionManager.create makes: an owned id, sha256
 * of the secret at rest, the same fields; only the times are chosen (see `Population`).
 */
import { createHash } from 'node:crypto';
import type { SessionRecord, UserRecord } from '../../src/ports.js';
import { ownedId } from '../../src/ids.js';
import { sha256 } from '../../src/core/crypto.js';

/** Sessions per user: a user signed in on a few devices. */
export const SESSIONS_PER_USER = 4;

const DAY = 86_400_000;

export interface Population {
  seed: string;
  /** When the rows were written: live sessions were last seen then and expire a day later. */
  at: number;
}

/** Users behind sessions [0, sessions). */
export function usersFor(sessions: number): number {
  return Math.max(1, Math.ceil(sessions / SESSIONS_PER_USER));
}

export const userOf = (i: number): number => Math.floor(i / SESSIONS_PER_USER);

function digest(label: string): Buffer {
  return createHash('sha256').update(label).digest();
}

/** A Gatehouse-shaped user id (22 base64url characters). */
export function userId(seed: string, u: number): string {
  return digest(`user:${seed}:${u}`).subarray(0, 16).toString('base64url');
}

export function user(p: Population, u: number): UserRecord {
  const id = userId(p.seed, u);
  const email = `scale-${u}@example.test`;
  return {
    id,
    email,
    emailCanonical: email,
    // Never verified: nobody signs in with a password in this bench (argon2id PHC string of the usual length).
    passwordHash: `$argon2id$v=19$m=19456,t=2,p=1$${digest(`salt:${p.seed}:${u}`).subarray(0, 16).toString('base64').replace(/=+$/, '')}$${digest(`hash:${p.seed}:${u}`).toString('base64').replace(/=+$/, '')}`,
    createdAt: p.at - 30 * DAY,
    disabledAt: null,
    admin: false,
    emailVerifiedAt: p.at - 30 * DAY,
    credentialVersion: 0,
  };
}

/** Kinds of row: live sessions (the measured ones) and sessions already past their expiry (for the sweep). */
export type RowKind = 'live' | 'expired';

/** The id and secret of session `i` of a kind: its cookie is `${id}.${secret}`. */
export function sessionToken(p: Population, kind: RowKind, i: number): { id: string; secret: string; token: string } {
  const random = digest(`sid:${p.seed}:${kind}:${i}`).subarray(0, 16).toString('base64url');
  const id = ownedId(random, userId(p.seed, userOf(i)));
  const secret = digest(`secret:${p.seed}:${kind}:${i}`).toString('base64url');
  return { id, secret, token: `${id}.${secret}` };
}

/** The record SessionManager.create would have written for session `i` (a cookie session, a password sign-in from a browser). */
export function session(p: Population, kind: RowKind, i: number): SessionRecord {
  const { id, secret } = sessionToken(p, kind, i);
  const created = kind === 'live' ? p.at - (i % 3600) * 1000 : p.at - 2 * DAY;
  return {
    id,
    userId: userId(p.seed, userOf(i)),
    secretHash: sha256(secret),
    mode: 'session',
    createdAt: created,
    lastSeenAt: kind === 'live' ? p.at : created,
    idleExpiresAt: kind === 'live' ? p.at + DAY : created + 30 * 60_000,
    expiresAt: kind === 'live' ? p.at + 7 * DAY : created + 12 * 3_600_000,
    authAt: created,
    amr: ['pwd'],
    acr: 'aal1',
    credentialVersion: 0,
    ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
    device: { browser: 'Firefox 133', os: 'Linux', type: 'desktop' },
    binding: null,
  };
}

/** The id of revoked session `i` (revoked sessions are gone from the sessions table; only the feed names them). */
export function revokedId(p: Population, i: number): string {
  return sessionToken(p, 'expired', 10_000_000 + i).id;
}

/**
 * `count` distinct indices in [0, n), spread evenly with a random start and stride coprime to n: the
 * load generator's request order (every index once before any repeats).
 */
export function spread(n: number, count: number, salt: number): number[] {
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  let stride = Math.max(1, Math.floor(n * 0.618033988749895)) + salt;
  while (gcd(stride, n) !== 1) stride += 1;
  const out: number[] = new Array<number>(count);
  let x = (salt * 7919) % n;
  for (let k = 0; k < count; k++) {
    out[k] = x;
    x = (x + stride) % n;
  }
  return out;
}
