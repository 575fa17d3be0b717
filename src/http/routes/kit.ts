/** What the route modules share: their context and the JSON shapes of the API. */
import type { AuthContext, AuthCore } from '../../core/auth.js';
import type { PublicUser } from '../../core/users.js';
import type { PasskeyRecord, SessionRecord } from '../../ports.js';
import type { TrustFn } from '../meta.js';
import type { RateLimits } from '../rate-limit.js';

export interface RouteContext {
  core: AuthCore;
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

/** How a session was authenticated: RFC 8176 `amr`, the assurance level as `acr`, and `auth_time`. */
export function authJson(s: Pick<SessionRecord, 'amr' | 'acr' | 'authAt'>) {
  return { amr: s.amr, acr: s.acr, auth_time: iso(s.authAt) };
}

export function sessionJson(s: SessionRecord) {
  return {
    id: s.id,
    mode: s.mode,
    created_at: iso(s.createdAt),
    expires_at: iso(s.expiresAt),
    idle_expires_at: iso(Math.min(s.idleExpiresAt, s.expiresAt)),
    ...authJson(s),
    binding: s.binding?.kind ?? null,
  };
}

type SessionJson = Readonly<ReturnType<typeof sessionJson>>;
/**
 * The JSON of a cached session record, made once per record rather than once per request (five date
 * conversions were most of the cookie path's extra cost over a bearer token on GET /auth/me). Remade
 * whenever a field it shows differs; frozen, so that no caller can change what the next one gets.
 */
const sessionJsonMemo = new WeakMap<SessionRecord, { idle: number; exp: number; acr: string; authAt: number; amr: SessionRecord['amr']; binding: string | null; json: SessionJson }>();
function memoSessionJson(s: SessionRecord): SessionJson {
  const m = sessionJsonMemo.get(s);
  const binding = s.binding?.kind ?? null;
  if (m && m.idle === s.idleExpiresAt && m.exp === s.expiresAt && m.acr === s.acr && m.authAt === s.authAt && m.amr === s.amr && m.binding === binding) return m.json;
  const json = Object.freeze(sessionJson(s));
  sessionJsonMemo.set(s, { idle: s.idleExpiresAt, exp: s.expiresAt, acr: s.acr, authAt: s.authAt, amr: s.amr, binding, json });
  return json;
}

/** The current session as a request knows it: the record for a cookie, what the access token carries for a bearer. */
export function currentSessionJson(a: AuthContext) {
  if (a.session) return memoSessionJson(a.session);
  const c = a.claims;
  return {
    id: a.sessionId,
    mode: a.mode,
    expires_at: new Date((c?.exp ?? 0) * 1000).toISOString(),
    amr: c?.amr ?? [],
    acr: c?.acr ?? 'aal1',
    auth_time: new Date((c?.auth_time ?? 0) * 1000).toISOString(),
    binding: a.binding,
  };
}

/** A passkey as its owner and an administrator see it: metadata only, never the public key. */
export function passkeyJson(p: PasskeyRecord) {
  return {
    id: p.id,
    name: p.name,
    created_at: iso(p.createdAt),
    last_used_at: p.lastUsedAt === null ? null : iso(p.lastUsedAt),
    device_type: p.deviceType,
    backed_up: p.backedUp,
    transports: p.transports,
  };
}
