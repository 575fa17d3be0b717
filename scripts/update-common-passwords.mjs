#!/usr/bin/env node
// Regenerates data/common-passwords.txt (and its licence file) from the MIT-licensed password
// frequency list of @zxcvbn-ts/language-common, fetched with `npm pack` into a temporary folder so
// that the package never becomes a dependency of Gatehouse.
//
// Usage: node scripts/update-common-passwords.mjs [path-to-unpacked-package]
//   With no argument, packs @zxcvbn-ts/language-common@<VERSION> from the npm registry.
//
// Only entries of at least MIN_LENGTH code points are kept: shorter ones are refused by the length
// rule anyway, so they would only cost memory. Entries keep the list's frequency order.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE = '@zxcvbn-ts/language-common';
const VERSION = '4.1.3';
const MAX_ENTRIES = 10_000;
const MIN_LENGTH = 8;
const MAX_BYTES = 1024;

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
let pkgDir = process.argv[2];
let tmp = null;
if (!pkgDir) {
  tmp = mkdtempSync(join(tmpdir(), 'gatehouse-pw-'));
  const tgz = execFileSync('npm', ['pack', '--silent', `${PACKAGE}@${VERSION}`], { cwd: tmp, encoding: 'utf8' }).trim().split('\n').pop();
  execFileSync('tar', ['xzf', tgz], { cwd: tmp });
  pkgDir = join(tmp, 'package');
}

try {
  const meta = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
  if (meta.name !== PACKAGE) throw new Error(`${pkgDir} holds ${meta.name}, not ${PACKAGE}`);
  if (meta.license !== 'MIT') throw new Error(`${PACKAGE}@${meta.version} is licensed ${meta.license}, not MIT`);
  const list = JSON.parse(readFileSync(join(pkgDir, 'src', 'passwords.json'), 'utf8'));
  if (!Array.isArray(list)) throw new Error('passwords.json is not an array');

  // Same normalisation as src/core/password-policy.ts applies to a candidate password.
  const seen = new Set();
  const out = [];
  for (const raw of list) {
    if (typeof raw !== 'string') continue;
    const pw = raw.normalize('NFKC').toLowerCase();
    if ([...pw].length < MIN_LENGTH || Buffer.byteLength(pw) > MAX_BYTES || /[\r\n]/.test(pw) || pw.startsWith('#')) continue;
    if (seen.has(pw)) continue;
    seen.add(pw);
    out.push(pw);
    if (out.length >= MAX_ENTRIES) break;
  }

  const header = [
    `# Common breached passwords: the ${out.length} most frequent entries of at least ${MIN_LENGTH} characters`,
    `# from ${PACKAGE}@${meta.version} (src/passwords.json), licence ${meta.license}: see common-passwords.LICENSE.`,
    '# NFKC-normalised and lower-cased, one per line, most frequent first. Lines starting with # are comments.',
    '# Regenerate with: node scripts/update-common-passwords.mjs',
  ];
  writeFileSync(join(root, 'data', 'common-passwords.txt'), header.join('\n') + '\n' + out.join('\n') + '\n');

  const licence = readFileSync(join(pkgDir, 'LICENSE.txt'), 'utf8');
  writeFileSync(
    join(root, 'data', 'common-passwords.LICENSE'),
    `data/common-passwords.txt is derived from ${PACKAGE}@${meta.version} (MIT), whose licence follows.\n\n${licence}`,
  );
  console.log(`wrote ${out.length} entries from ${PACKAGE}@${meta.version}`);
} finally {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
}
