/**
 * The one session start, as a rule of the source tree: a way in proves who the user is and hands the
 * proof to `SessionControl.start`; nothing else creates a session. These checks read the sources, so a
 * new way in that inserts sessions itself fails here before it ships.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';

const SRC = join(import.meta.dirname, '..', '..', 'src');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

const files = sources(SRC).map((p) => ({ path: relative(SRC, p).split('\\').join('/'), text: readFileSync(p, 'utf8') }));

function callers(pattern: RegExp): string[] {
  return files.filter((f) => pattern.test(f.text)).map((f) => f.path).sort();
}

test('only the session service inserts sessions into a store (stores and store decorators aside)', () => {
  const outside = callers(/\.createSession\(/).filter((p) => !p.startsWith('stores/') && p !== 'core/sessions.ts' && p !== 'server/session-counters.ts');
  assert.deepEqual(outside, [], `these modules insert sessions directly instead of going through SessionControl.start: ${outside.join(', ')}`);
});

test('only SessionControl calls the session service\'s create', () => {
  const outside = callers(/\bsessions\.create\(/).filter((p) => p !== 'core/session-control.ts');
  assert.deepEqual(outside, [], `these modules create sessions outside the one session start: ${outside.join(', ')}`);
});

test('the ways in never touch the session service or the session store', () => {
  const methods = files.filter((f) => f.path.startsWith('core/methods/'));
  assert.ok(methods.length >= 5, `expected the ways in under src/core/methods, found ${methods.length}`);
  for (const m of methods) {
    assert.doesNotMatch(m.text, /SessionService|SessionStore|createSession\(|sessions\.create\(/, `${m.path} reaches sessions itself`);
  }
});
