// Equivalent claims for every token variant: an RFC 9068-like access token of 10 minutes.
import { randomUUID } from 'node:crypto';
import { USER_ID } from './_serve.js';

export const ISSUER = 'http://127.0.0.1/bench';
export const AUDIENCE = 'bench-api';

export function accessClaims(): Record<string, string | number> {
  const now = Math.floor(Date.now() / 1000);
  return { iss: ISSUER, aud: AUDIENCE, sub: USER_ID, sid: randomUUID(), jti: randomUUID(), iat: now, exp: now + 600 };
}

/** Reads `Authorization: Bearer <token>`; undefined when absent or malformed. */
export function bearer(header: string | undefined): string | undefined {
  if (header === undefined || !header.startsWith('Bearer ')) return undefined;
  const token = header.slice(7);
  return token.length > 0 && token.length <= 8192 ? token : undefined;
}
