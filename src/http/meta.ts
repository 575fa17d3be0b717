import type { Request } from 'express';
import type { RequestMeta } from '../core/audit.js';

/** Client IP (X-Forwarded-For only when a trusted proxy is configured: Express's `trust proxy`) and user agent. */
export function requestMeta(req: Request): RequestMeta {
  const ua = req.headers['user-agent'];
  return { ip: req.ip ?? null, userAgent: typeof ua === 'string' ? ua.slice(0, 512) : null };
}
