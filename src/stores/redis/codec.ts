/**
 * Compact record encoding for Redis values, readable by the Lua scripts.
 *
 * A value is: one byte holding the length n of the secret hash, the n raw hash bytes, then text
 * fields joined by `|`. Times are base-36 epoch milliseconds (8 characters until the year 2059).
 * Strings escape `%` and `|`; null is the empty field and the empty string is a lone `%`.
 * A session with realistic device metadata encodes to about 75 bytes, against about 400 as JSON.
 */
import type { RefreshTokenRecord, SessionBinding, SessionRecord } from '../../ports.js';

export const t36 = (n: number) => Math.trunc(n).toString(36);
const f36 = (s: string | undefined) => parseInt(s ?? '', 36);

export function esc(s: string | null): string {
  if (s === null) return '';
  if (s === '') return '%';
  return s.replace(/[%|]/g, (c) => (c === '%' ? '%25' : '%7C'));
}
export function unesc(s: string | undefined): string | null {
  if (s === undefined || s === '') return null;
  if (s === '%') return '';
  return s.replace(/%(25|7C)/g, (_, c: string) => (c === '25' ? '%' : '|'));
}

function head(hash: Uint8Array): Buffer {
  if (hash.byteLength > 255) throw new TypeError('secret hash too long');
  const b = Buffer.allocUnsafe(1 + hash.byteLength);
  b[0] = hash.byteLength;
  b.set(hash, 1);
  return b;
}

function split(v: Buffer): { hash: Buffer; f: string[] } {
  const n = v[0]!;
  return { hash: Buffer.from(v.subarray(1, 1 + n)), f: v.subarray(1 + n).toString('utf8').split('|') };
}

/** A signed base-36 offset (a clock step back can make one negative). */
const d36 = (n: number) => (n < 0 ? `-${t36(-n)}` : t36(n));

/** Device types bowser reports, kept as one character; anything else is `~` + the escaped string. */
const TYPE_CODE: Record<string, string> = { desktop: 'd', mobile: 'm', tablet: 't', tv: 'v', bot: 'b' };
const CODE_TYPE: Record<string, string> = Object.fromEntries(Object.entries(TYPE_CODE).map(([k, v]) => [v, k]));
const encType = (t: string | null) => (t === null ? '' : (TYPE_CODE[t] ?? `~${esc(t)}`));
const decType = (s: string | undefined): string | null => {
  if (s === undefined || s === '') return null;
  if (s.startsWith('~')) return unesc(s.slice(1));
  return CODE_TYPE[s] ?? null;
};

/** amr values are RFC 8176 tokens without spaces: kept space-separated; `pwd` alone (the common case) is empty. */
export const encAmr = (amr: readonly string[]) => (amr.length === 1 && amr[0] === 'pwd' ? '' : esc(amr.join(' ')) ?? '');
const decAmr = (s: string | undefined): string[] => {
  if (s === undefined || s === '') return ['pwd'];
  const t = unesc(s) ?? '';
  return t === '' ? [] : t.split(' ');
};

/** A P-256 public key in the canonical JWK form the core stores (RFC 7638 member order). */
const p256 = (x: string, y: string) => `{"crv":"P-256","kty":"EC","x":"${x}","y":"${y}"}`;
const P256 = /^\{"crv":"P-256","kty":"EC","x":"([A-Za-z0-9_-]{43})","y":"([A-Za-z0-9_-]{43})"\}$/;

/**
 * The binding field: empty for none, `d<jkt>` for DPoP, `b<jkt>.<x>.<y>` for a DBSC P-256 key in its
 * canonical JWK form (thumbprint and coordinates are base64url: no `|`, `%` or `.`), and
 * `k<jkt>.<escaped JSON>` for any other key.
 */
export function encBinding(b: SessionBinding | null): string {
  if (b === null) return '';
  if (b.kind === 'dpop') return `d${b.jkt}`;
  const m = P256.exec(b.key);
  return m ? `b${b.jkt}.${m[1]}.${m[2]}` : `k${b.jkt}.${esc(b.key)}`;
}

function decBinding(s: string | undefined): SessionBinding | null {
  if (s === undefined || s === '') return null;
  const kind = s[0];
  if (kind === 'd') return { kind: 'dpop', jkt: s.slice(1) };
  const dot = s.indexOf('.');
  const jkt = s.slice(1, dot);
  if (kind === 'b') {
    const [x, y] = s.slice(dot + 1).split('.');
    return { kind: 'dbsc', jkt, key: p256(x!, y!) };
  }
  if (kind === 'k') return { kind: 'dbsc', jkt, key: unesc(s.slice(dot + 1)) ?? '' };
  return null;
}

/**
 * Session text fields: mode, createdAt, then lastSeenAt, idleExpiresAt, expiresAt and authAt as
 * offsets from createdAt (5–6 characters instead of 8), ip, browser, os, device type code, then
 * amr (empty for `pwd`), the assurance level digit (empty for aal1) and the credential version
 * (base 36, empty for 0), and the device binding (empty for none). Records written before the last
 * four existed decode to pwd / aal1 / 0 / unbound. The Lua scripts read and write the same layout
 * (scripts.ts).
 */
export function encodeSession(s: SessionRecord): Buffer {
  const c = Math.trunc(s.createdAt);
  const fields = [
    s.mode === 'token' ? 't' : 's',
    t36(c), d36(s.lastSeenAt - c), d36(s.idleExpiresAt - c), d36(s.expiresAt - c), d36(s.authAt - c),
    esc(s.ip), esc(s.device.browser), esc(s.device.os), encType(s.device.type),
    encAmr(s.amr), s.acr === 'aal2' ? '2' : '', s.credentialVersion === 0 ? '' : t36(s.credentialVersion),
    encBinding(s.binding),
  ];
  // The last four are usually their defaults: left off entirely then (a password session costs nothing more).
  while (fields.length > 10 && fields[fields.length - 1] === '') fields.pop();
  const text = fields.join('|');
  return Buffer.concat([head(s.secretHash), Buffer.from(text, 'utf8')]);
}

export function decodeSession(id: string, userId: string, v: Buffer): SessionRecord {
  const { hash, f } = split(v);
  const c = f36(f[1]);
  return {
    id,
    userId,
    secretHash: hash,
    mode: f[0] === 't' ? 'token' : 'session',
    createdAt: c,
    lastSeenAt: c + f36(f[2]),
    idleExpiresAt: c + f36(f[3]),
    expiresAt: c + f36(f[4]),
    authAt: c + f36(f[5]),
    amr: decAmr(f[10]),
    acr: f[11] === '2' ? 'aal2' : 'aal1',
    credentialVersion: f[12] ? f36(f[12]) : 0,
    ip: unesc(f[6]),
    device: { browser: unesc(f[7]), os: unesc(f[8]), type: decType(f[9]) },
    binding: decBinding(f[13]),
  };
}

export const encodeSalt = (s: Uint8Array | null) => (s ? Buffer.from(s.buffer, s.byteOffset, s.byteLength).toString('base64url') : '');

export function encodeRefresh(t: RefreshTokenRecord): Buffer {
  const text = [
    esc(t.sessionId), t36(t.createdAt), t36(t.expiresAt), t.spentAt === null ? '' : t36(t.spentAt),
    esc(t.successorId), encodeSalt(t.successorSalt),
  ].join('|');
  return Buffer.concat([head(t.secretHash), Buffer.from(text, 'utf8')]);
}

export function decodeRefresh(id: string, userId: string, v: Buffer): RefreshTokenRecord {
  const { hash, f } = split(v);
  return {
    id,
    sessionId: unesc(f[0]) ?? '',
    userId,
    secretHash: hash,
    createdAt: f36(f[1]),
    expiresAt: f36(f[2]),
    spentAt: f[3] ? f36(f[3]) : null,
    successorId: unesc(f[4]),
    successorSalt: f[5] ? Buffer.from(f[5], 'base64url') : null,
  };
}
