import type { AssuranceLevel, SessionRecord } from '../../ports.js';
import { fromBlob, toBlob } from './db.js';

export interface SessionRow {
  id: string;
  user_id: string;
  secret_hash: Buffer;
  mode: 'session' | 'token';
  created_at: number;
  last_seen_at: number;
  idle_expires_at: number;
  expires_at: number;
  auth_at: number;
  amr: string;
  acr: AssuranceLevel;
  credential_version: number;
  ip: string | null;
  device_browser: string | null;
  device_os: string | null;
  device_type: string | null;
}

export const SESSION_COLUMNS =
  'id, user_id, secret_hash, mode, created_at, last_seen_at, idle_expires_at, expires_at, auth_at, amr, acr, credential_version, ip, device_browser, device_os, device_type';

/** amr values are RFC 8176 tokens (no spaces): stored space-separated. */
export const amrText = (amr: readonly string[]): string => amr.join(' ');
export const amrList = (text: string): string[] => (text === '' ? [] : text.split(' '));

export function toSession(r: SessionRow): SessionRecord {
  return {
    id: r.id,
    userId: r.user_id,
    secretHash: fromBlob(r.secret_hash),
    mode: r.mode,
    createdAt: r.created_at,
    lastSeenAt: r.last_seen_at,
    idleExpiresAt: r.idle_expires_at,
    expiresAt: r.expires_at,
    authAt: r.auth_at,
    amr: amrList(r.amr),
    acr: r.acr,
    credentialVersion: r.credential_version,
    ip: r.ip,
    device: { browser: r.device_browser, os: r.device_os, type: r.device_type },
  };
}

export function sessionParams(s: SessionRecord): unknown[] {
  return [
    s.id,
    s.userId,
    toBlob(s.secretHash),
    s.mode,
    s.createdAt,
    s.lastSeenAt,
    s.idleExpiresAt,
    s.expiresAt,
    s.authAt,
    amrText(s.amr),
    s.acr,
    s.credentialVersion,
    s.ip,
    s.device.browser,
    s.device.os,
    s.device.type,
  ];
}
