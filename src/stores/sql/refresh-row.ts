/**
 * The refresh_tokens row of the SQL stores: one column list and one mapping each way. Drivers differ
 * only in how bytes travel (a Buffer in, a Uint8Array or Buffer out), so that comes in as a codec.
 */
import type { RefreshTokenRecord } from '../../ports.js';

export type RefreshRow = {
  id: string;
  session_id: string;
  user_id: string;
  secret_hash: Buffer;
  created_at: number;
  expires_at: number;
  spent_at: number | null;
  successor_id: string | null;
  successor_salt: Buffer | null;
};

export const REFRESH_COLUMNS = 'id, session_id, user_id, secret_hash, created_at, expires_at, spent_at, successor_id, successor_salt';

export interface BytesCodec {
  out(bytes: Uint8Array): Buffer;
  in(blob: Buffer): Uint8Array;
}

export function toRefreshToken(r: RefreshRow, bytes: BytesCodec): RefreshTokenRecord {
  return {
    id: r.id,
    sessionId: r.session_id,
    userId: r.user_id,
    secretHash: bytes.in(r.secret_hash),
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    spentAt: r.spent_at ?? null,
    successorId: r.successor_id ?? null,
    successorSalt: r.successor_salt ? bytes.in(r.successor_salt) : null,
  };
}

/** The values of REFRESH_COLUMNS, in order, for an INSERT. */
export function refreshParams(t: RefreshTokenRecord, bytes: BytesCodec): unknown[] {
  return [
    t.id, t.sessionId, t.userId, bytes.out(t.secretHash), t.createdAt, t.expiresAt, t.spentAt, t.successorId,
    t.successorSalt ? bytes.out(t.successorSalt) : null,
  ];
}
