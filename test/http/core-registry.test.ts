import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { ERROR_CODES } from '../../src/errors.js';
import { PROBLEMS } from '../../src/http/problem.js';

describe('error registry', () => {
  test('every error code has a problem entry with an HTTP status and a title', () => {
    for (const code of ERROR_CODES) {
      const p = PROBLEMS[code];
      assert.ok(p, `${code} is registered`);
      assert.ok(Number.isInteger(p.status) && p.status >= 400 && p.status <= 599, `${code} status ${p.status}`);
      assert.ok(typeof p.title === 'string' && p.title.length > 0, `${code} title`);
    }
    assert.deepEqual(Object.keys(PROBLEMS).sort(), [...ERROR_CODES].sort(), 'no stale entries');
  });

  test("every error code is documented in README's error table with its status", () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    for (const code of ERROR_CODES) {
      const row = new RegExp(`^\\|\\s*\`${code}\`\\s*\\|\\s*${PROBLEMS[code].status}\\s*\\|`, 'm');
      assert.match(readme, row, `README documents ${code} (${PROBLEMS[code].status})`);
    }
  });
});
