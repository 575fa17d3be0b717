/**
 * Every runtime package in the lock supports the Node versions Gatehouse supports (package.json#engines),
 * and every development package the Node running the suite: a dependency that needs a newer Node may
 * work by accident today and break on its next patch release.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import semver from 'semver';

const root = new URL('../../', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { engines: { node: string } };
const lock = JSON.parse(readFileSync(new URL('package-lock.json', root), 'utf8')) as {
  packages: Record<string, { version?: string; engines?: unknown; dev?: boolean }>;
};

test('runtime packages accept the lowest Node version Gatehouse supports; every package accepts the one running', () => {
  const lowest = semver.minVersion(pkg.engines.node);
  assert.ok(lowest, `package.json engines.node is not a range: ${pkg.engines.node}`);
  const bad: string[] = [];
  let checked = 0;
  for (const [path, p] of Object.entries(lock.packages)) {
    if (path === '') continue;
    const range = typeof p.engines === 'object' && p.engines !== null ? (p.engines as { node?: unknown }).node : undefined;
    if (typeof range !== 'string') continue;
    checked++;
    // Development tools only need to run here; what users install must run on every supported Node.
    for (const v of p.dev ? [process.versions.node] : [lowest.version, process.versions.node]) {
      if (!semver.satisfies(v, range, { includePrerelease: true })) bad.push(`${path}@${p.version}: engines.node "${range}" excludes ${v}`);
    }
  }
  assert.ok(checked > 50, `only ${checked} packages declare engines: is the lock file read correctly?`);
  assert.deepEqual(bad, []);
});
