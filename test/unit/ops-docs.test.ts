/**
 * The operations docs follow the metrics: the Grafana dashboard and the alerting rules name only
 * metrics the registry exposes, and docs/operations.md lists every one of them.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { GatehouseMetrics } from '../../src/observability/metrics.js';
import { familyNames } from '../support/metrics.js';

const doc = (p: string) => readFileSync(new URL(`../../docs/${p}`, import.meta.url), 'utf8');

async function exposed(): Promise<Set<string>> {
  const m = new GatehouseMetrics();
  return familyNames(await m.registry.metrics());
}

/** The metric families an expression names (`_bucket`, `_sum`, `_count` belong to their histogram). */
function referenced(expr: string): string[] {
  return [...new Set([...expr.matchAll(/\b(gatehouse_[a-z0-9_]+)/g)].map((m) => m[1]!.replace(/_(bucket|sum|count)$/, '')))];
}

describe('operations docs', () => {
  test('the registry exposes the metrics the issue asks for', async () => {
    const names = await exposed();
    for (const n of [
      'gatehouse_logins_total', 'gatehouse_registrations_total', 'gatehouse_refreshes_total', 'gatehouse_revoked_sessions_total', 'gatehouse_active_sessions',
      'gatehouse_store_operation_duration_seconds', 'gatehouse_store_errors_total', 'gatehouse_auth_cache_lookups_total', 'gatehouse_revocation_feed_lag_seconds',
      'gatehouse_revocation_feed_trusted', 'gatehouse_rate_limit_blocks_total', 'gatehouse_mail_queue_depth', 'gatehouse_mail_failures_total', 'gatehouse_http_request_duration_seconds',
    ]) assert.ok(names.has(n), n);
  });

  test('the Grafana dashboard is JSON whose every panel query names only exposed metrics', async () => {
    const names = await exposed();
    const dash = JSON.parse(doc('ops/grafana-dashboard.json'));
    assert.equal(typeof dash.title, 'string');
    assert.ok(Array.isArray(dash.panels) && dash.panels.length >= 10);
    const seen = new Set<string>();
    const ids = new Set<number>();
    for (const p of dash.panels) {
      assert.ok(!ids.has(p.id), `panel id ${p.id} is unique`);
      ids.add(p.id);
      assert.ok(Array.isArray(p.targets) && p.targets.length > 0, `${p.title} has a query`);
      for (const t of p.targets) {
        const used = referenced(t.expr);
        assert.ok(used.length > 0, `${p.title}: ${t.expr}`);
        for (const n of used) {
          assert.ok(names.has(n), `${p.title} queries ${n}, which Gatehouse does not expose`);
          seen.add(n);
        }
      }
    }
    // Every metric has a panel.
    assert.deepEqual([...names].filter((n) => !seen.has(n)), []);
  });

  test('the alerting rules name only exposed metrics, and each rule has an expression', async () => {
    // No YAML parser is among the dependencies (none is added for this): the rules are checked as text.
    const names = await exposed();
    const text = doc('ops/alerts.yml');
    assert.match(text, /^groups:\n {2}- name: gatehouse\n {4}rules:\n/m);
    const rules = text.split(/\n(?= {6}- alert: )/).slice(1);
    assert.ok(rules.length >= 4);
    const alerts = rules.map((r) => /- alert: (\w+)/.exec(r)![1]);
    for (const a of ['GatehouseLoginFailureRatioHigh', 'GatehouseRefreshTokenReuse', 'GatehouseRevocationFeedUntrusted', 'GatehouseStoreTimeouts']) assert.ok(alerts.includes(a), a);
    for (const r of rules) {
      assert.match(r, /\n {8}expr: /, r.slice(0, 60));
      assert.doesNotMatch(r, /\t/, 'no tabs (YAML)');
      for (const n of referenced(r.replace(/annotations:[\s\S]*$/, ''))) assert.ok(names.has(n), `${n} in ${r.slice(0, 60)}`);
    }
  });

  test('docs/operations.md lists every exposed metric', async () => {
    const text = doc('operations.md');
    for (const n of await exposed()) assert.ok(text.includes(`| \`${n}\` |`), `${n} is in the metrics table`);
  });
});
