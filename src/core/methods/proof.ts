/**
 * What a way in hands to the one session start: who the user is, as read when they proved it, and how
 * they proved it. A way in (password, passkey, second factor, identity provider, migration) proves; it
 * never creates sessions itself — `SessionControl.start` does, for every way in alike.
 */
import type { AssuranceLevel, UserRecord } from '../../ports.js';

/**
 * RFC 8176 authentication method reference values Gatehouse records, plus `migrated` (a session
 * carried over from another system, whose original method is unknown).
 */
export type AuthMethod = 'pwd' | 'otp' | 'hwk' | 'swk' | 'user' | 'mfa' | 'fed' | 'pop' | 'migrated' | (string & {});

export interface Proof {
  /**
   * The user as read while proving: its credentialVersion is the one the session starts under, so a
   * password changed between the proof and the start ends the new session at once.
   */
  user: UserRecord;
  amr: AuthMethod[];
  acr: AssuranceLevel;
}

/** The level a set of methods reaches: two factors, or a passkey with user verification, is aal2. */
export function assuranceOf(amr: readonly string[]): AssuranceLevel {
  if (amr.includes('mfa')) return 'aal2';
  if ((amr.includes('hwk') || amr.includes('swk')) && amr.includes('user')) return 'aal2';
  return 'aal1';
}

/** Methods of a step-up merged into a session's: the union, with `mfa` once two kinds of factor are in. */
export function mergeMethods(current: readonly string[], added: readonly string[]): string[] {
  const out = [...new Set([...current.filter((m) => m !== 'mfa'), ...added.filter((m) => m !== 'mfa')])];
  const factors = new Set(out.map((m) => (m === 'pwd' ? 'know' : m === 'otp' || m === 'hwk' || m === 'swk' ? 'have' : m === 'fed' ? 'fed' : null)).filter((x) => x !== null));
  if (factors.has('know') && factors.has('have')) out.push('mfa');
  return out;
}
