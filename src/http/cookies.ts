/** Cookie parsing and the attributes of Gatehouse's cookies. */
import type { IncomingMessage, ServerResponse } from 'node:http';

const MAX_COOKIE_HEADER = 8192;

/**
 * All values of cookie `name` in the request. More than one value (cookie tossing, a stale duplicate)
 * is treated by callers as no credential at all: which one is ours cannot be told.
 */
export function readCookie(req: IncomingMessage, name: string): string[] {
  const raw = req.headers.cookie;
  if (typeof raw !== 'string' || raw.length > MAX_COOKIE_HEADER) return [];
  const out: string[] = [];
  for (const part of raw.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() !== name) continue;
    let v = part.slice(eq + 1).trim();
    if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1);
    out.push(v);
  }
  return out;
}

export interface CookieAttrs {
  path: string;
  sameSite: 'Lax' | 'Strict';
  maxAgeSeconds?: number;
}

function serialize(name: string, value: string, a: CookieAttrs): string {
  let s = `${name}=${value}; Path=${a.path}; HttpOnly; Secure; SameSite=${a.sameSite}`;
  if (a.maxAgeSeconds !== undefined) s += `; Max-Age=${Math.max(0, Math.floor(a.maxAgeSeconds))}`;
  return s;
}

export function setCookie(res: ServerResponse, name: string, value: string, a: CookieAttrs): void {
  res.appendHeader('Set-Cookie', serialize(name, value, a));
}

/** Clears a cookie with the same attributes it was set with. */
export function clearCookie(res: ServerResponse, name: string, a: Omit<CookieAttrs, 'maxAgeSeconds'>): void {
  res.appendHeader('Set-Cookie', serialize(name, '', { ...a, maxAgeSeconds: 0 }));
}
