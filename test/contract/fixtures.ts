/**
 * Small factories for store records used by the contract suite and by store-specific tests.
 * Ids are random so that tests sharing one store never collide; times default to around Date.now()
 * because TTL-based stores (Redis) expire records by the real clock.
 */
import { randomBytes } from 'node:crypto';
import type {
  AuditEvent,
  KeyRecord,
  OneTimeTokenRecord,
  RefreshTokenRecord,
  SessionRecord,
  UserRecord,
} from '../../src/ports.js';
import { ownedId } from '../../src/ids.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export function rid(prefix = ''): string {
  return prefix + randomBytes(12).toString('base64url');
}

/** A session or refresh-token id of `userId`, as the core makes them (src/ids.ts). */
export function ownedBy(userId: string): string {
  return ownedId(randomBytes(16).toString('base64url'), userId);
}

export function hash32(): Uint8Array {
  return new Uint8Array(randomBytes(32));
}

export function makeUser(over: Partial<UserRecord> = {}): UserRecord {
  const id = over.id ?? rid('u_');
  const email = over.email ?? `${id.toLowerCase()}@example.test`;
  return {
    id,
    email,
    emailCanonical: over.emailCanonical ?? email.toLowerCase(),
    passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo',
    createdAt: Date.now(),
    disabledAt: null,
    emailVerifiedAt: null,
    credentialVersion: 0,
    admin: false,
    ...over,
  };
}

export function makeSession(over: Partial<SessionRecord> = {}): SessionRecord {
  const now = over.createdAt ?? Date.now();
  const userId = over.userId ?? rid('u_');
  return {
    id: ownedBy(userId),
    userId,
    secretHash: hash32(),
    mode: 'session',
    createdAt: now,
    lastSeenAt: now,
    idleExpiresAt: now + HOUR,
    expiresAt: now + DAY,
    authAt: now,
    amr: ['pwd'],
    acr: 'aal1',
    credentialVersion: 0,
    ip: '203.0.113.7',
    device: { browser: 'Firefox', os: 'Linux', type: 'desktop' },
    binding: null,
    ...over,
  };
}

export function makeRefreshToken(over: Partial<RefreshTokenRecord> = {}): RefreshTokenRecord {
  const now = over.createdAt ?? Date.now();
  const userId = over.userId ?? rid('u_');
  return {
    id: ownedBy(userId),
    sessionId: ownedBy(userId),
    userId,
    secretHash: hash32(),
    createdAt: now,
    expiresAt: now + DAY,
    spentAt: null,
    successorId: null,
    successorSalt: null,
    ...over,
  };
}

export function makeKey(over: Partial<KeyRecord> = {}): KeyRecord {
  const kid = over.kid ?? rid('k_');
  return {
    kid,
    alg: 'EdDSA',
    publicJwk: JSON.stringify({ kty: 'OKP', crv: 'Ed25519', x: 'x', kid }),
    privateJwk: JSON.stringify({ kty: 'OKP', crv: 'Ed25519', x: 'x', d: 'd', kid }),
    encrypted: false,
    createdAt: Date.now(),
    retiredAt: null,
    verifyUntil: null,
    ...over,
  };
}

let eventSeq = 0;
/** Audit ids sort in creation order, like timeOrderedId(). */
export function makeEvent(over: Partial<AuditEvent> = {}): AuditEvent {
  eventSeq += 1;
  const at = over.at ?? Date.now();
  return {
    id: `${at.toString(32).padStart(10, '0')}${String(eventSeq).padStart(8, '0')}`,
    at,
    type: 'login.succeeded',
    userId: null,
    sessionId: null,
    ip: null,
    userAgent: null,
    detail: null,
    ...over,
  };
}

export function makeOneTimeToken(over: Partial<OneTimeTokenRecord> = {}): OneTimeTokenRecord {
  const now = over.createdAt ?? Date.now();
  return {
    id: rid('o_'),
    userId: rid('u_'),
    purpose: 'verify_email',
    secretHash: hash32(),
    binding: 'binding-value',
    createdAt: now,
    expiresAt: now + HOUR,
    usedAt: null,
    ...over,
  };
}

/** Polls `check` until it holds or `ms` pass; for feeds that deliver over the network. */
export async function waitFor(check: () => boolean, ms = 3000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 5));
  }
  return true;
}

/** Replaces byte fields (Buffer or Uint8Array) with plain Uint8Arrays so records compare by content. */
export function plain<T>(rec: T): T {
  if (rec === null || typeof rec !== 'object') return rec;
  if (rec instanceof Uint8Array) return new Uint8Array(rec) as T;
  if (Array.isArray(rec)) return rec.map(plain) as T;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(rec)) out[k] = plain(v);
  return out as T;
}
