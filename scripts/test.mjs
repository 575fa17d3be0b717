#!/usr/bin/env node
// Runs the whole suite with Node's test runner. Test files are TypeScript, loaded through tsx.
// Usage: node scripts/test.mjs [dir-or-file ...]   (default: test/unit test/core test/contract test/http test/adapters test/e2e test/bench)
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const roots = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const passthrough = process.argv.slice(2).filter((a) => a.startsWith('-'));
const defaults = ['test/unit', 'test/core', 'test/contract', 'test/http', 'test/adapters', 'test/e2e', 'test/bench'];

function collect(p, out) {
  let st;
  try { st = statSync(p); } catch { return; }
  if (st.isDirectory()) for (const e of readdirSync(p).sort()) collect(join(p, e), out);
  else if (/\.test\.ts$/.test(p)) out.push(p);
}
const files = [];
for (const r of roots.length ? roots : defaults) collect(r, files);
if (files.length === 0) { console.error('no test files found'); process.exit(1); }

const res = spawnSync(process.execPath, [
  '--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=300000', ...passthrough, ...files,
], { stdio: 'inherit', env: { ...process.env, NODE_ENV: 'test' } });
process.exit(res.status ?? 1);
