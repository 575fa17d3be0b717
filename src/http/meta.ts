/**
 * Client IP and user agent. X-Forwarded-For is honoured only through a configured trusted proxy
 * (same semantics as Express's `trust proxy`: false, true, a hop count, or addresses/CIDRs/`loopback`).
 */
import type { IncomingMessage } from 'node:http';
import proxyaddr from 'proxy-addr';
import type { RequestMeta } from '../core/audit.js';

export type TrustProxy = boolean | number | string;
export type TrustFn = (addr: string, i: number) => boolean;

export function compileTrust(setting: TrustProxy): TrustFn {
  if (setting === true) return () => true;
  if (setting === false) return () => false;
  if (typeof setting === 'number') return (_a, i) => i < setting;
  return proxyaddr.compile(setting.split(',').map((s) => s.trim()).filter(Boolean));
}

export function clientIp(req: IncomingMessage, trust: TrustFn): string | null {
  // Express already computed it with the same rules.
  const expressIp = (req as { ip?: unknown }).ip;
  if (typeof expressIp === 'string') return expressIp;
  if (!req.socket?.remoteAddress) return null;
  return proxyaddr(req as Parameters<typeof proxyaddr>[0], trust);
}

export function requestMeta(req: IncomingMessage, trust: TrustFn): RequestMeta {
  const ua = req.headers['user-agent'];
  const lang = req.headers['accept-language'];
  return { ip: clientIp(req, trust), userAgent: typeof ua === 'string' ? ua.slice(0, 512) : null, acceptLanguage: typeof lang === 'string' ? lang.slice(0, 256) : null };
}
