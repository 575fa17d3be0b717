/**
 * The deployment examples in docs/examples are the ones that work: the nginx config is what the
 * cluster bed runs (with its own ports); the systemd unit passes `systemd-analyze verify` and
 * starts `gatehouse serve` with the environment file the deployment guide documents.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { findBinary, nginxMainConf, nginxSiteFromExample, NGINX_EXAMPLE, ROOT } from './bed.js';

const UNIT = join(ROOT, 'docs/examples/gatehouse.service');
const GUIDE = join(ROOT, 'docs/deployment.md');

function unitSections(text: string): Record<string, Record<string, string[]>> {
  const out: Record<string, Record<string, string[]>> = {};
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const s = /^\[(.+)\]$/.exec(line);
    if (s) {
      section = s[1]!;
      out[section] ??= {};
      continue;
    }
    const eq = line.indexOf('=');
    assert.ok(eq > 0 && section, `unit line "${line}" is a key=value inside a section`);
    (out[section]![line.slice(0, eq)] ??= []).push(line.slice(eq + 1));
  }
  return out;
}

test('the example systemd unit runs `gatehouse serve` with the documented environment file, and systemd accepts it', () => {
  const text = readFileSync(UNIT, 'utf8');
  const unit = unitSections(text);
  const exec = unit.Service?.ExecStart ?? [];
  assert.equal(exec.length, 1);
  assert.match(exec[0]!, /^\/\S*\/gatehouse serve(\s|$)/, 'ExecStart runs gatehouse serve');
  const envFile = unit.Service?.EnvironmentFile?.[0];
  assert.ok(envFile, 'the unit reads an environment file');
  assert.ok(readFileSync(GUIDE, 'utf8').includes(envFile!), `docs/deployment.md documents ${envFile}`);
  assert.equal(unit.Service?.KillSignal?.[0], 'SIGTERM', 'stops with SIGTERM: the graceful shutdown');
  const analyze = findBinary('systemd-analyze');
  if (!analyze) return; // parsed above; systemd itself is not on this machine
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-unit-'));
  try {
    // verify checks that ExecStart's program exists: point it at this checkout's bin.
    writeFileSync(join(dir, 'gatehouse.service'), text.replace(/^ExecStart=\S*\/gatehouse /m, `ExecStart=${join(ROOT, 'bin/gatehouse.js')} `));
    const r = spawnSync(analyze, ['verify', join(dir, 'gatehouse.service')], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, `systemd-analyze verify: ${r.stderr}`);
    assert.doesNotMatch(r.stderr, /gatehouse\.service:/, `no complaint about the unit: ${r.stderr}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the example nginx config, with the bed\'s ports, passes nginx -t', { skip: findBinary('nginx') || process.env.CI === 'true' ? false : 'nginx is not installed (apt-get install -y nginx)' }, () => {
  const nginx = findBinary('nginx');
  assert.ok(nginx, 'nginx is installed (.ci/run installs it)');
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-nginx-'));
  try {
    writeFileSync(join(dir, 'gatehouse-site.conf'), nginxSiteFromExample(readFileSync(NGINX_EXAMPLE, 'utf8'), 18080, [13001, 13002, 13003]));
    writeFileSync(join(dir, 'nginx.conf'), nginxMainConf(dir));
    const r = spawnSync(nginx!, ['-t', '-c', join(dir, 'nginx.conf'), '-p', dir], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, r.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
