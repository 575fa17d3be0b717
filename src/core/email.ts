/**
 * Email addresses: one display form and one canonical form.
 *
 * The display form is what the user typed, trimmed and NFC-normalised; it is shown back to them and
 * used to send mail. The canonical form is the key for uniqueness and lookup. It is chosen so that
 * any two spellings a person could not tell apart (case, NFD vs NFC, compatibility characters such as
 * fullwidth letters or the Kelvin sign, dotless ı, long ſ, combining accents) map to the same key:
 * otherwise a second account could be registered that signs in as, or is mistaken for, the first.
 *
 * Folding is deliberately aggressive on the local part (it merges é with e): refusing a rare
 * legitimate second address is a far smaller harm than a look-alike account. Provider-specific rules
 * (Gmail dots, +tags) are not applied: they are not true for every domain.
 */
import { domainToASCII, domainToUnicode } from 'node:url';

/** RFC 5321 path limit, counted here in code points of the display form. */
export const MAX_EMAIL_LENGTH = 254;
/** RFC 5321 local-part limit, counted in code points of the display form. */
export const MAX_LOCAL_LENGTH = 64;

// Inputs far beyond the limit are refused before any Unicode work. NFC can shrink a decomposed
// string, so the pre-check leaves generous room (a few units per final character).
const MAX_RAW_UNITS = 4 * MAX_EMAIL_LENGTH;

// Controls, format characters (zero-width joiners, bidi overrides: invisible look-alike tricks),
// private-use, lone surrogates and unassigned code points.
const FORBIDDEN = /[\p{Cc}\p{Cf}\p{Co}\p{Cs}\p{Cn}]/u;
const SPACE = /[\p{White_Space}\p{Z}]/u;
// RFC 5322 specials outside a quoted string. Quoted local parts are not accepted.
const LOCAL_SPECIALS = /[()<>[\]:;\\,"@]/;
const NONSPACING_MARKS = /[\p{Mn}\p{Me}]/gu;
const ASCII_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

export interface NormalizedEmail {
  /** Trimmed, NFC: shown to the user and used to send mail. */
  email: string;
  /** The uniqueness key: folded local part @ lower-case IDNA ASCII domain. */
  canonical: string;
}

/**
 * Validates and normalises an email address. Returns null for anything invalid (an expected failure,
 * not an exception).
 *
 * @example
 * normalizeEmail('  Ａlice@Bücher.Example ')
 * // → { email: 'Ａlice@Bücher.Example', canonical: 'alice@xn--bcher-kva.example' }
 */
export function normalizeEmail(input: string): NormalizedEmail | null {
  if (typeof input !== 'string' || input.length > MAX_RAW_UNITS) return null;
  const trimmed = input.trim();
  if (trimmed === '' || FORBIDDEN.test(trimmed) || SPACE.test(trimmed)) return null;

  const email = trimmed.normalize('NFC');
  if (codePoints(email) > MAX_EMAIL_LENGTH) return null;
  const at = email.indexOf('@');
  if (at <= 0 || at !== email.lastIndexOf('@') || at === email.length - 1) return null;
  const localPart = email.slice(0, at);
  const domainPart = email.slice(at + 1);
  if (codePoints(localPart) > MAX_LOCAL_LENGTH) return null;

  const local = canonicalLocal(localPart);
  const domain = canonicalDomain(domainPart);
  if (local === null || domain === null) return null;
  return { email, canonical: `${local}@${domain}` };
}

/**
 * NFKC, then full case folding (upper then lower: ß → SS → ss, ı → I → i, ſ → S → s, ς → σ), then
 * NFKD with non-spacing and enclosing marks removed (İ, é, é-with-combining-acute all lose their
 * accent), then NFKC again to recompose what remains. The Kelvin sign K and fullwidth forms are
 * handled by NFKC.
 */
function canonicalLocal(part: string): string | null {
  const folded = part
    .normalize('NFKC')
    .toUpperCase()
    .toLowerCase()
    .normalize('NFKD')
    .replace(NONSPACING_MARKS, '')
    .normalize('NFKC');
  // Compatibility mapping can produce ASCII specials or spaces from harmless-looking characters
  // (fullwidth ＠, small ﹫, ideographic forms), so the rules apply to the folded form too.
  if (folded === '' || FORBIDDEN.test(folded) || SPACE.test(folded) || LOCAL_SPECIALS.test(folded)) return null;
  if (folded.startsWith('.') || folded.endsWith('.') || folded.includes('..')) return null;
  if (isMixedScript(folded)) return null;
  return folded;
}

/**
 * IDNA (UTS #46, as browsers do) through node:url: case, width and compatibility variants map to
 * one punycode form, and a label that is not valid IDNA is refused. DNS length rules apply to the
 * ASCII form; IP literals and bare IPv4 addresses are refused.
 */
function canonicalDomain(part: string): string | null {
  const ascii = domainToASCII(part).toLowerCase();
  if (ascii === '' || ascii.length > 253) return null;
  const labels = ascii.split('.');
  if (labels.length < 2) return null;
  if (!labels.every((l) => ASCII_LABEL.test(l))) return null;
  if (/^[0-9]+$/.test(labels[labels.length - 1]!)) return null;
  // The same look-alike rule as the local part, label by label, on the Unicode form.
  if (domainToUnicode(ascii).split('.').some(isMixedScript)) return null;
  return ascii;
}

/*
 * Mixed-script rule (after UTS #39 "highly restrictive"): the letters of one local part (or one
 * domain label) must all come from one script. Characters of the Common and Inherited scripts
 * (digits, punctuation, marks) do not count. The only mixes allowed are those of real writing
 * systems that combine scripts: Latin with Han, Hiragana and Katakana (Japanese), with Han and
 * Bopomofo (Chinese), or with Han and Hangul (Korean). So `pаypal` with a Cyrillic а, or `ѕcott`
 * with a Cyrillic ѕ, is refused, while an all-Cyrillic or all-Greek address is accepted: it cannot
 * collide with a Latin one because its canonical form differs.
 */
const SCRIPTS: ReadonlyArray<readonly [string, RegExp]> = [
  'Latin', 'Greek', 'Cyrillic', 'Armenian', 'Hebrew', 'Arabic', 'Syriac', 'Thaana', 'Nko', 'Devanagari',
  'Bengali', 'Gurmukhi', 'Gujarati', 'Oriya', 'Tamil', 'Telugu', 'Kannada', 'Malayalam', 'Sinhala', 'Thai',
  'Lao', 'Tibetan', 'Myanmar', 'Georgian', 'Hangul', 'Ethiopic', 'Cherokee', 'Canadian_Aboriginal', 'Ogham',
  'Runic', 'Khmer', 'Mongolian', 'Hiragana', 'Katakana', 'Bopomofo', 'Han', 'Yi', 'Tifinagh', 'Coptic',
  'Glagolitic', 'Vai', 'Bamum', 'Javanese', 'Balinese', 'Sundanese', 'Tagalog', 'Adlam', 'Osage', 'Lisu',
].map((name) => [name, new RegExp(`^\\p{Script=${name}}$`, 'u')] as const);
const LETTER = /^\p{L}$/u;
const COMMON_OR_INHERITED = /^[\p{Script=Common}\p{Script=Inherited}]$/u;
const ALLOWED_MIXES: ReadonlyArray<ReadonlySet<string>> = [
  new Set(['Latin', 'Han', 'Hiragana', 'Katakana']),
  new Set(['Latin', 'Han', 'Bopomofo']),
  new Set(['Latin', 'Han', 'Hangul']),
];

function isMixedScript(s: string): boolean {
  const seen = new Set<string>();
  for (const ch of s) {
    if (!LETTER.test(ch) || COMMON_OR_INHERITED.test(ch)) continue;
    const script = SCRIPTS.find(([, re]) => re.test(ch))?.[0] ?? 'Other';
    seen.add(script);
  }
  if (seen.size <= 1) return false;
  if (seen.has('Other')) return true;
  return !ALLOWED_MIXES.some((mix) => [...seen].every((x) => mix.has(x)));
}

function codePoints(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}
