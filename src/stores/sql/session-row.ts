/**
 * The sessions row, as the three SQL stores (SQLite, PostgreSQL, MySQL) lay it out: one column list,
 * one mapping each way. The stores differ only in how a driver hands back two columns — `amr` (a
 * space-separated text, or PostgreSQL's text[]) and `secret_hash` (a Buffer, or a Uint8Array view) —
 * so those come in as a codec.
 */
import type { AssuranceLevel, SessionBinding, SessionMode, SessionRecord } from '../../ports.js';

export type SessionRow<Amr = string> = {
  id: string;
  user_id: string;
  secret_hash: Buffer;
  mode: SessionMode;
  created_at: number;
  last_seen_at: number;
  idle_expires_at: number;
  expires_at: number;
  auth_at: number;
  amr: Amr;
  acr: AssuranceLevel;
  credential_version: number;
  ip: string | null;
  device_browser: string | null;
  device_os: string | null;
  device_type: string | null;
  binding_kind: string | null;
  binding_jkt: string | null;
  binding_key: string | null;
};

export const SESSION_COLUMNS =
  'id, user_id, secret_hash, mode, created_at, last_seen_at, idle_expires_at, expires_at, auth_at, amr, acr, credential_version, ip, device_browser, device_os, device_type, binding_kind, binding_jkt, binding_key';

/** How a store keeps `amr` and the secret hash. */
export interface SessionCodec<Amr> {
  amrOut(amr: readonly string[]): Amr;
  amrIn(amr: Amr): string[];
  bytesOut(bytes: Uint8Array): Buffer | Uint8Array;
  bytesIn(blob: Buffer): Uint8Array;
}

/** amr values are RFC 8176 tokens (no spaces): SQLite and MySQL store them space-separated. */
export const amrText = (amr: readonly string[]): string => amr.join(' ');
export const amrList = (text: string): string[] => (text === '' ? [] : text.split(' '));

/** The binding columns of a session: kind, thumbprint, and the DBSC public key (null for DPoP). */
export function bindingParams(b: SessionBinding | null): [string | null, string | null, string | null] {
  if (b === null) return [null, null, null];
  return [b.kind, b.jkt, b.kind === 'dbsc' ? b.key : null];
}

export function toBinding(kind: string | null, jkt: string | null, key: string | null): SessionBinding | null {
  if (kind === 'dpop' && jkt !== null) return { kind, jkt };
  if (kind === 'dbsc' && jkt !== null && key !== null) return { kind, jkt, key };
  return null;
}

export function toSession<Amr>(r: SessionRow<Amr>, codec: SessionCodec<Amr>): SessionRecord {
  return {
    id: r.id,
    userId: r.user_id,
    secretHash: codec.bytesIn(r.secret_hash),
    mode: r.mode,
    createdAt: r.created_at,
    lastSeenAt: r.last_seen_at,
    idleExpiresAt: r.idle_expires_at,
    expiresAt: r.expires_at,
    authAt: r.auth_at,
    amr: codec.amrIn(r.amr),
    acr: r.acr,
    credentialVersion: r.credential_version,
    ip: r.ip,
    device: { browser: r.device_browser, os: r.device_os, type: r.device_type },
    binding: toBinding(r.binding_kind, r.binding_jkt, r.binding_key),
  };
}

/** The values of SESSION_COLUMNS, in order, for an INSERT. */
export function sessionParams<Amr>(s: SessionRecord, codec: SessionCodec<Amr>): unknown[] {
  return [
    s.id,
    s.userId,
    codec.bytesOut(s.secretHash),
    s.mode,
    s.createdAt,
    s.lastSeenAt,
    s.idleExpiresAt,
    s.expiresAt,
    s.authAt,
    codec.amrOut(s.amr),
    s.acr,
    s.credentialVersion,
    s.ip,
    s.device.browser,
    s.device.os,
    s.device.type,
    ...bindingParams(s.binding),
  ];
}
