/**
 * Sealing secrets at rest: AES-256-GCM under a key derived (HKDF-SHA256, a fresh salt per envelope)
 * from GATEHOUSE_SECRET, with a purpose label so an envelope of one kind never opens as another.
 * Signing keys and TOTP secrets use it.
 */
import { createCipheriv, createDecipheriv, hkdfSync } from 'node:crypto';
import type { Random } from '../ports.js';
import { b64url } from './crypto.js';

export function seal(secret: string, plaintext: string, random: Random, info: string): string {
  const salt = random.bytes(16);
  const iv = random.bytes(12);
  const key = Buffer.from(hkdfSync('sha256', secret, salt, info, 32));
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return JSON.stringify({ v: 1, salt: b64url(salt), iv: b64url(iv), tag: b64url(cipher.getAuthTag()), ct: b64url(ct) });
}

/** Opens an envelope made by `seal` with the same secret and label; throws when it was altered or is of another kind. */
export function unseal(secret: string, sealed: string, info: string): string {
  const env = JSON.parse(sealed) as { v: number; salt: string; iv: string; tag: string; ct: string };
  if (env.v !== 1) throw new Error('unknown envelope version');
  const key = Buffer.from(hkdfSync('sha256', secret, Buffer.from(env.salt, 'base64url'), info, 32));
  const d = createDecipheriv('aes-256-gcm', key, Buffer.from(env.iv, 'base64url'));
  d.setAuthTag(Buffer.from(env.tag, 'base64url'));
  return Buffer.concat([d.update(Buffer.from(env.ct, 'base64url')), d.final()]).toString('utf8');
}
