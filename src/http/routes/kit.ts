/** What the route modules share: their context and the JSON shapes of the API. */
import type { Account } from '../../core/account.js';
import type { AuthCore } from '../../core/auth.js';
import type { PublicUser } from '../../core/users.js';
import type { SessionRecord } from '../../ports.js';
import type { TrustFn } from '../meta.js';
import type { RateLimits } from '../rate-limit.js';

export interface RouteContext {
  core: AuthCore;
  account: Account;
  /** Where the auth routes are mounted, e.g. `/auth` (the refresh cookie is scoped under it). */
  basePath: string;
  trust: TrustFn;
  /** Brute-force limits of the credential routes. */
  rateLimits: RateLimits;
}

export const iso = (ms: number): string => new Date(ms).toISOString();

export function userJson(u: PublicUser) {
  return { id: u.id, email: u.email, created_at: iso(u.createdAt), email_verified: u.emailVerified };
}

export function sessionJson(s: SessionRecord) {
  return {
    id: s.id,
    mode: s.mode,
    created_at: iso(s.createdAt),
    expires_at: iso(s.expiresAt),
    idle_expires_at: iso(Math.min(s.idleExpiresAt, s.expiresAt)),
  };
}
