import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { checkPassword, commonPasswords, MAX_PASSWORD_BYTES } from '../../src/core/password-policy.js';

describe('checkPassword: length', () => {
  it('refuses 7 code points and accepts 8', () => {
    assert.deepEqual(checkPassword('zq7#Lp2'), { ok: false, code: 'password_too_short' });
    assert.deepEqual(checkPassword('zq7#Lp2v'), { ok: true, normalized: 'zq7#Lp2v' });
  });

  it('counts code points, not UTF-16 units: 7 emoji (14 units) are too short, 8 are enough', () => {
    const seven = '\u{1F511}\u{1F680}\u{1F98A}\u{1F335}\u{1F3B8}\u{1F9ED}\u{1F30B}';
    assert.equal(seven.length, 14);
    assert.deepEqual(checkPassword(seven), { ok: false, code: 'password_too_short' });
    assert.equal(checkPassword(seven + '\u{1F9C0}').ok, true);
  });

  it('counts after NFKC: decomposed accents do not pad a short password', () => {
    // 8 UTF-16 units and 8 code points as typed, but NFKC composes each e + U+0301 into one é.
    const padded = 'e\u0301e\u0301e\u0301e\u0301';
    assert.equal(padded.length, 8);
    assert.deepEqual(checkPassword(padded), { ok: false, code: 'password_too_short' });
  });

  it('accepts exactly 1024 bytes and refuses 1025', () => {
    const at = 'x7'.repeat(512);
    assert.equal(Buffer.byteLength(at), MAX_PASSWORD_BYTES);
    assert.deepEqual(checkPassword(at), { ok: true, normalized: at });
    assert.deepEqual(checkPassword(at + 'y'), { ok: false, code: 'password_too_long' });
  });

  it('bounds bytes, not characters: 256 four-byte emoji fit, one more does not', () => {
    const at = '\u{1F511}'.repeat(256);
    assert.equal(Buffer.byteLength(at), 1024);
    assert.equal(checkPassword(at).ok, true);
    assert.deepEqual(checkPassword(at + '\u{1F511}'), { ok: false, code: 'password_too_long' });
    // 342 three-byte characters are 1026 bytes though only 342 UTF-16 units.
    assert.deepEqual(checkPassword('\u20AC'.repeat(342)), { ok: false, code: 'password_too_long' });
  });

  it('checks the byte bound on the raw input, before NFKC could shrink it', () => {
    // 1025 bytes raw; NFKC would turn the fullwidth letters into ASCII well under the bound.
    const raw = '\uFF41'.repeat(341) + 'bb';
    assert.equal(Buffer.byteLength(raw), 1025);
    assert.ok(Buffer.byteLength(raw.normalize('NFKC')) < 1024);
    assert.deepEqual(checkPassword(raw), { ok: false, code: 'password_too_long' });
  });

  it('refuses a 1 MB password at once, without normalising it', () => {
    const huge = 'a'.repeat(1024 * 1024);
    checkPassword('warm up the list'); // the one-time list read is not part of the measure
    const t0 = performance.now();
    for (let i = 0; i < 100; i++) assert.deepEqual(checkPassword(huge), { ok: false, code: 'password_too_long' });
    assert.ok((performance.now() - t0) / 100 < 1, 'each refusal takes well under a millisecond');
  });

  it('allows long passphrases (64 and more characters) without truncating them', () => {
    const phrase = 'correct horse battery staple, but with a much longer tail of words on the end';
    assert.ok(phrase.length > 64);
    assert.deepEqual(checkPassword(phrase), { ok: true, normalized: phrase });
  });

  it('has no composition rules: lower-case letters only is fine', () => {
    assert.equal(checkPassword('quietmeadowlantern').ok, true);
  });
});

describe('checkPassword: NFKC', () => {
  it('returns the NFKC form, so equivalent spellings hash the same', () => {
    const fullwidth = '\uFF50\uFF41\uFF53\uFF53\uFF57\uFF4F\uFF52\uFF44\uFF11\uFF12\uFF13\uFF14x';
    const r = checkPassword(fullwidth);
    assert.deepEqual(r, { ok: true, normalized: 'password1234x' });
    assert.deepEqual(checkPassword('caf\u00e9-terrace-9'), checkPassword('cafe\u0301-terrace-9'));
  });

  it('keeps case: the normalised password is not lower-cased', () => {
    assert.deepEqual(checkPassword('Tr0ub4dor&3xyz'), { ok: true, normalized: 'Tr0ub4dor&3xyz' });
  });
});

describe('checkPassword: breached list', () => {
  it('refuses passwords from the shipped list', () => {
    for (const pw of ['password', '12345678', 'password1', 'iloveyou1', 'qwertyuiop']) {
      assert.ok(commonPasswords().has(pw), `${pw} is in the list`);
      assert.deepEqual(checkPassword(pw), { ok: false, code: 'password_breached' }, pw);
    }
  });

  it('matches case-insensitively and after NFKC', () => {
    assert.deepEqual(checkPassword('PassWord1'), { ok: false, code: 'password_breached' });
    assert.deepEqual(checkPassword('\uFF50\uFF41\uFF53\uFF53\uFF57\uFF4F\uFF52\uFF44\uFF11'), { ok: false, code: 'password_breached' });
  });

  it('refuses every entry of the list, as typed in upper case', () => {
    const entries = readFileSync(new URL('../../data/common-passwords.txt', import.meta.url), 'utf8')
      .split('\n')
      .filter((l) => l !== '' && !l.startsWith('#'));
    assert.ok(entries.length >= 9000, `list holds ${entries.length} entries`);
    for (const e of entries) {
      const r = checkPassword(e.toUpperCase());
      if (r.ok) assert.fail(`${e} was accepted`);
    }
  });

  it('loads the list once into a set of entries of at least 8 characters', () => {
    const set = commonPasswords();
    assert.equal(commonPasswords(), set);
    assert.ok(set.size >= 9000);
    for (const e of set) assert.ok([...e].length >= 8, e);
  });

  it('accepts a password that is not on the list', () => {
    assert.equal(checkPassword('violet-otter-canyon-57').ok, true);
  });
});

describe('the shipped list', () => {
  it('names its source and licence, with the licence text beside it', () => {
    const head = readFileSync(new URL('../../data/common-passwords.txt', import.meta.url), 'utf8').slice(0, 400);
    assert.match(head, /@zxcvbn-ts\/language-common@\d+\.\d+\.\d+/);
    assert.match(head, /MIT/);
    const licence = readFileSync(new URL('../../data/common-passwords.LICENSE', import.meta.url), 'utf8');
    assert.match(licence, /Permission is hereby granted, free of charge/);
  });
});

describe('checkPassword: well-formed Unicode', () => {
  it('refuses a lone high or low surrogate as a malformed field, and accepts a proper pair', () => {
    assert.deepEqual(checkPassword('long enough \uD800 text'), { ok: false, code: 'invalid_field' });
    assert.deepEqual(checkPassword('long enough text \uDFFF'), { ok: false, code: 'invalid_field' });
    assert.equal(checkPassword('long enough \uD83D\uDD11 text').ok, true);
  });
});
