/**
 * The password policy (NIST SP 800-63B style): a length floor, a byte ceiling, no composition rules,
 * and a refusal of passwords that are known to be common in breaches.
 *
 * Order matters: the byte ceiling is checked first, on the raw UTF-8, so that an oversized input costs
 * O(1) to refuse and never reaches normalisation, the breached list or argon2.
 */
import { readFileSync } from 'node:fs';

/** Upper bound on the raw UTF-8 size of a password. Anything longer is refused, never truncated. */
export const MAX_PASSWORD_BYTES = 1024;
/** Lower bound in Unicode code points (not UTF-16 units) after NFKC normalisation. */
export const MIN_PASSWORD_CODE_POINTS = 8;

export type PasswordCheck =
  | { ok: true; normalized: string }
  | { ok: false; code: 'password_too_short' | 'password_too_long' | 'password_breached' | 'invalid_field' };

/**
 * A UTF-16 surrogate not paired with its partner. With the `u` flag a well-formed pair is one code
 * point (not in Cs), so only a lone half matches.
 */
const LONE_SURROGATE = /\p{Cs}/u;

/** Whether `s` is well-formed Unicode (no lone surrogate). */
export function isWellFormedText(s: string): boolean {
  return !LONE_SURROGATE.test(s);
}

/**
 * Checks a new password against the policy. The result carries the NFKC form, which is what gets
 * hashed (the hasher normalises the same way at login, so equivalent spellings verify).
 *
 * @example
 * const r = checkPassword(body.password);
 * if (!r.ok) throw new GatehouseError(r.code);
 * const hash = await hasher.hash(r.normalized);
 */
export function checkPassword(input: string): PasswordCheck {
  if (typeof input !== 'string') throw new TypeError('checkPassword: password must be a string');
  // Every UTF-16 unit encodes to at least one UTF-8 byte, so a string longer than the byte bound in
  // units is over it in bytes too: refused without even scanning it.
  if (input.length > MAX_PASSWORD_BYTES) return { ok: false, code: 'password_too_long' };
  if (Buffer.byteLength(input, 'utf8') > MAX_PASSWORD_BYTES) return { ok: false, code: 'password_too_long' };
  // A lone surrogate is not text: UTF-8 encoding turns every one of them into U+FFFD, so distinct
  // strings would hash to the same password. Refused as a malformed field, not as a weak password.
  if (!isWellFormedText(input)) return { ok: false, code: 'invalid_field' };

  const normalized = input.normalize('NFKC');
  if (codePointLength(normalized, MIN_PASSWORD_CODE_POINTS) < MIN_PASSWORD_CODE_POINTS) {
    return { ok: false, code: 'password_too_short' };
  }
  if (commonPasswords().has(normalized.toLowerCase())) return { ok: false, code: 'password_breached' };
  return { ok: true, normalized };
}

/** Counts code points up to `stopAt` (an astral character such as an emoji counts once). */
function codePointLength(s: string, stopAt: number): number {
  let n = 0;
  for (const _ of s) if (++n >= stopAt) break;
  return n;
}

// The list ships at <package>/data/common-passwords.txt. This file sits at src/core/ in the source
// tree and at dist/core/ when built, two levels below the package root either way.
const LIST_URL = new URL('../../data/common-passwords.txt', import.meta.url);

let common: Set<string> | null = null;

/**
 * The breached-password set, read once on first use. A missing list is a packaging bug: it throws
 * rather than silently accepting every password. Call at start-up to take the read off the first
 * registration.
 */
export function commonPasswords(): ReadonlySet<string> {
  if (common) return common;
  const text = readFileSync(LIST_URL, 'utf8');
  const set = new Set<string>();
  for (const line of text.split('\n')) {
    const entry = line.trim();
    // Entries are already NFKC + lower case; shorter ones could never pass the length rule.
    if (entry === '' || entry.startsWith('#')) continue;
    if (codePointLength(entry, MIN_PASSWORD_CODE_POINTS) < MIN_PASSWORD_CODE_POINTS) continue;
    set.add(entry);
  }
  common = set;
  return set;
}
