/**
 * Migration from express-session, the HTTP side: a request that carries no Gatehouse credential but
 * a valid old `connect.sid` cookie gets a Gatehouse session in its place, on that very request.
 *
 * The old cookie is `s:` + sid + `.` + base64(HMAC-SHA256(secret, sid)) without padding (the format of
 * `cookie-signature`, which express-session uses), URL-encoded. It is checked against every configured
 * old secret in constant time; anything else (unsigned, forged, another secret) is simply no
 * credential. What the old session proves, and the one session start, are the core's
 * (core/methods/migration.ts).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LegacyRuntime } from '../compose.js';
import type { AuthContext } from '../core/auth.js';
import { readCookie, setCookie } from './cookies.js';
import { requestMeta, type TrustFn } from './meta.js';

export { dataFieldsMapper } from '../core/methods/migration.js';
export type { LegacyOptions } from '../compose.js';

const MAX_COOKIE_VALUE = 1024;

function b64NoPad(buf: Buffer): string {
  return buf.toString('base64').replace(/=+$/, '');
}

/** The session id of a `s:sid.mac` cookie signed by one of `secrets`, or null. */
export function unsignSessionCookie(value: string, secrets: readonly string[]): string | null {
  if (value.length > MAX_COOKIE_VALUE) return null;
  let v: string;
  try {
    v = decodeURIComponent(value);
  } catch {
    return null;
  }
  if (!v.startsWith('s:')) return null;
  const signed = v.slice(2);
  const dot = signed.lastIndexOf('.');
  if (dot <= 0) return null;
  const sid = signed.slice(0, dot);
  const given = Buffer.from(signed.slice(dot + 1));
  let ok = false;
  for (const secret of secrets) {
    const want = Buffer.from(b64NoPad(createHmac('sha256', secret).update(sid).digest()));
    // Every secret is tried, so the time taken does not say which one matched.
    if (want.length === given.length && timingSafeEqual(want, given)) ok = true;
  }
  return ok ? sid : null;
}

export class LegacyCookies {
  readonly cookieName: string;

  constructor(
    private readonly legacy: LegacyRuntime,
    private readonly sessionCookieName: string,
    private readonly trust: TrustFn,
    private readonly now: () => number,
  ) {
    this.cookieName = legacy.cookieName;
  }

  /** Whether the request carries the old cookie at all (cheap; no store access). */
  present(req: IncomingMessage): boolean {
    return readCookie(req, this.cookieName).length > 0;
  }

  /**
   * Migrates the old session the request's cookie names, if it is valid: resolves the new session's
   * auth context (cookies set on `res`), or null when the old cookie is no credential.
   */
  async migrate(req: IncomingMessage, res: ServerResponse): Promise<AuthContext | null> {
    const values = readCookie(req, this.cookieName);
    if (values.length !== 1) return null;
    const sid = unsignSessionCookie(values[0]!, this.legacy.secrets);
    if (sid === null) return null;
    const out = await this.legacy.migration.migrate(sid, requestMeta(req, this.trust));
    if (!out) return null;
    if (out.cookie) {
      setCookie(res, this.sessionCookieName, out.cookie.value, { path: '/', sameSite: 'Lax', maxAgeSeconds: (out.cookie.expiresAt - this.now()) / 1000 });
      res.appendHeader('Set-Cookie', `${this.cookieName}=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT`);
    }
    return out.ctx;
  }
}
