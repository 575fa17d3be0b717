import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeEmail, MAX_EMAIL_LENGTH } from '../../src/core/email.js';

function canonical(input: string): string | undefined {
  return normalizeEmail(input)?.canonical;
}

function assertSameAccount(a: string, b: string): void {
  const ca = canonical(a);
  assert.ok(ca, `${JSON.stringify(a)} should be valid`);
  assert.equal(canonical(b), ca, `${JSON.stringify(b)} must map to the same account as ${JSON.stringify(a)}`);
}

// An address of exactly `total` code points: 64-char local part, labels of at most 63.
function addressOfLength(total: number): string {
  const local = 'a'.repeat(64);
  const domainLen = total - local.length - 1;
  const tail = '.com';
  const labels = ['b'.repeat(63), 'c'.repeat(63)];
  labels.push('d'.repeat(domainLen - 63 - 63 - 2 - tail.length));
  return `${local}@${labels.join('.')}${tail}`;
}

describe('normalizeEmail: display form', () => {
  it('trims surrounding whitespace and keeps the typed case for display', () => {
    assert.deepEqual(normalizeEmail('  Alice@Example.COM \t'), { email: 'Alice@Example.COM', canonical: 'alice@example.com' });
  });

  it('stores the display form as NFC', () => {
    const nfd = 'Jose\u0301@example.com';
    const r = normalizeEmail(nfd);
    assert.equal(r?.email, 'Jos\u00e9@example.com');
  });
});

describe('normalizeEmail: one canonical form per person', () => {
  it('folds case in the local part and the domain', () => {
    assertSameAccount('alice@example.com', 'ALICE@EXAMPLE.COM');
    assertSameAccount('alice@example.com', 'aLiCe@ExAmPlE.cOm');
  });

  it('maps NFD and NFC spellings to one account', () => {
    assertSameAccount('jos\u00e9@example.com', 'jose\u0301@example.com');
  });

  it('folds accents so é and e are one account', () => {
    assertSameAccount('jose@example.com', 'jos\u00e9@example.com');
  });

  it('maps the Kelvin sign to k', () => {
    assertSameAccount('kelvin@example.com', '\u212Aelvin@example.com');
    assert.equal(canonical('\u212Aelvin@example.com'), 'kelvin@example.com');
  });

  it('maps dotless ı and dotted İ to i', () => {
    assertSameAccount('tim@example.com', 't\u0131m@example.com');
    assertSameAccount('tim@example.com', 'T\u0130M@example.com');
  });

  it('maps long s ſ to s and ß to ss', () => {
    assertSameAccount('sam@example.com', '\u017Fam@example.com');
    assertSameAccount('strasse@example.com', 'stra\u00dfe@example.com');
  });

  it('maps fullwidth letters and digits to ASCII', () => {
    assertSameAccount('bob42@example.com', '\uFF42\uFF4F\uFF42\uFF14\uFF12@example.com');
    assertSameAccount('bob@example.com', 'bob@\uFF45\uFF58\uFF41\uFF4D\uFF50\uFF4C\uFF45\u3002com');
  });

  it('maps an IDN domain and its punycode to one account', () => {
    assertSameAccount('anna@b\u00fccher.example', 'anna@xn--bcher-kva.example');
    assertSameAccount('anna@B\u00dcCHER.example', 'anna@XN--BCHER-KVA.EXAMPLE');
    assert.equal(canonical('anna@b\u00fccher.example'), 'anna@xn--bcher-kva.example');
  });

  it('keeps +tags and dots: provider-specific rules are not applied', () => {
    assert.notEqual(canonical('a.b+news@example.com'), canonical('ab@example.com'));
  });

  it('is idempotent: the canonical form canonicalises to itself', () => {
    for (const e of ['J\u00f6rg@B\u00fccher.example', '\u212Aelvin@example.com', '\u5c71\u7530@\u4f8b\u3048.jp', 'stra\u00dfe@x.org']) {
      const c = canonical(e)!;
      assert.equal(canonical(c), c, e);
    }
  });
});

describe('normalizeEmail: refusals', () => {
  const invalid: Array<[string, string]> = [
    ['empty', ''],
    ['only whitespace', '   '],
    ['missing @', 'alice.example.com'],
    ['two @', 'a@b@example.com'],
    ['empty local part', '@example.com'],
    ['empty domain', 'alice@'],
    ['whitespace inside', 'ali ce@example.com'],
    ['tab inside', 'alice@exa\tmple.com'],
    ['ideographic space inside', 'ali\u3000ce@example.com'],
    ['NUL', 'alice\u0000@example.com'],
    ['newline (header injection)', 'alice@example.com\r\nBcc: x@y.com'],
    ['zero-width space', 'ali\u200Bce@example.com'],
    ['bidi override', 'alice\u202E@example.com'],
    ['fullwidth @ that folds into a second @', 'a\uFF20b@example.com'],
    ['small @ that folds into a second @', 'a\uFE6Bb@example.com'],
    ['leading dot', '.alice@example.com'],
    ['trailing dot', 'alice.@example.com'],
    ['double dot', 'al..ice@example.com'],
    ['quoted local part', '"alice"@example.com'],
    ['domain without a dot', 'alice@localhost'],
    ['empty domain label', 'alice@example..com'],
    ['label starting with a hyphen', 'alice@-example.com'],
    ['invalid punycode', 'alice@xn--zz.com'],
    ['IP literal', 'alice@[127.0.0.1]'],
    ['bare IPv4 address', 'alice@127.0.0.1'],
    ['local part over 64', `${'a'.repeat(65)}@example.com`],
  ];
  for (const [why, input] of invalid) {
    it(`refuses ${why}`, () => assert.equal(normalizeEmail(input), null));
  }

  it('accepts 254 characters and refuses 255', () => {
    const ok = addressOfLength(MAX_EMAIL_LENGTH);
    const tooLong = addressOfLength(MAX_EMAIL_LENGTH + 1);
    assert.equal(ok.length, 254);
    assert.equal(tooLong.length, 255);
    assert.equal(normalizeEmail(ok)?.email, ok);
    assert.equal(normalizeEmail(tooLong), null);
  });

  it('counts the length after NFC, so a decomposed 254-character address is accepted', () => {
    const nfc = addressOfLength(MAX_EMAIL_LENGTH).replace(/^a{4}/, '\u00e9\u00e9\u00e9\u00e9');
    const nfd = nfc.normalize('NFD');
    assert.ok(nfd.length > 254);
    assert.equal(normalizeEmail(nfd)?.email, nfc);
  });

  it('accepts a 64-character local part', () => {
    assert.ok(normalizeEmail(`${'a'.repeat(64)}@example.com`));
  });

  it('refuses a 1 MB input without work proportional to its content', () => {
    const huge = 'a'.repeat(1 << 20) + '@example.com';
    const t0 = performance.now();
    assert.equal(normalizeEmail(huge), null);
    assert.ok(performance.now() - t0 < 50);
  });

  it('returns null for non-strings from untyped callers', () => {
    for (const v of [undefined, null, 42, {}, ['a@b.com']]) assert.equal(normalizeEmail(v as unknown as string), null);
  });
});

describe('normalizeEmail: SQL metacharacters', () => {
  it("accepts an apostrophe as data (O'Brien is a real address)", () => {
    assert.deepEqual(normalizeEmail("o'brien@example.com"), { email: "o'brien@example.com", canonical: "o'brien@example.com" });
  });

  it('refuses or accepts injection-shaped input consistently and never throws', () => {
    const inputs = [
      "x';DROP TABLE users;--@example.com",
      "' OR '1'='1@example.com",
      'a"--@example.com',
      'a\\@example.com',
      "alice@example.com'; --",
      'a%27@example.com',
      'a`rm`@example.com',
      "robert');--@example.com",
      '*@example.com',
    ];
    for (const input of inputs) {
      const first = normalizeEmail(input);
      assert.deepEqual(normalizeEmail(input), first, input);
      if (first) {
        // Accepted values are plain data: one @, no spaces, no quotes or semicolons or backslashes.
        assert.match(first.canonical, /^[^@\s;"\\]+@[a-z0-9.-]+$/, input);
      }
    }
    assert.equal(normalizeEmail("x';DROP TABLE users;--@example.com"), null);
    assert.equal(normalizeEmail("alice@example.com'; --"), null);
  });
});

describe('normalizeEmail: mixed-script look-alikes', () => {
  it('refuses a Latin local part with a Cyrillic letter in it', () => {
    assert.ok(normalizeEmail('paypal@example.com'));
    assert.equal(normalizeEmail('p\u0430ypal@example.com'), null); // Cyrillic а
    assert.equal(normalizeEmail('\u0455cott@example.com'), null); // Cyrillic ѕ
  });

  it('refuses a Latin local part with a Greek letter in it', () => {
    assert.equal(normalizeEmail('j\u03bfhn@example.com'), null); // Greek ο
  });

  it('refuses a mixed-script domain label', () => {
    assert.equal(normalizeEmail('alice@p\u0430ypal.com'), null);
  });

  it('accepts single-script addresses in other scripts, as distinct accounts', () => {
    const cyr = normalizeEmail('\u0438\u0432\u0430\u043d@example.com'); // иван
    const greek = normalizeEmail('\u03b1\u03bb\u03b5\u03be@example.com'); // αλεξ
    assert.ok(cyr && greek);
    assert.notEqual(cyr.canonical, canonical('ivan@example.com'));
  });

  it('accepts scripts that real writing systems mix (Japanese with Latin)', () => {
    assert.ok(normalizeEmail('taro\u5c71\u7530\u305f\u308d\u3046@example.jp'));
  });

  it('ignores digits and punctuation when judging scripts', () => {
    assert.ok(normalizeEmail('\u0438\u0432\u0430\u043d.42_2024-x@example.com') === null, 'a Latin x still counts');
    assert.ok(normalizeEmail('\u0438\u0432\u0430\u043d.42_2024@example.com'));
  });
});
