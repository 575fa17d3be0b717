/** The pieces of the metrics: the store decorator's failure categories, the request-path histogram, the token check. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Histogram, Registry } from 'prom-client';
import { GatehouseError, StoreUnavailableError } from '../../src/errors.js';
import { LightHistogram } from '../../src/observability/light-histogram.js';
import { GatehouseMetrics } from '../../src/observability/metrics.js';
import { tokenMatches } from '../../src/observability/http.js';
import { instrumentStores, storeFailure, storeKinds } from '../../src/observability/stores.js';
import { createMemoryStores } from '../../src/stores/memory/index.js';
import { makeSession } from '../contract/fixtures.js';
import { parseExposition } from '../support/metrics.js';

describe('store failures', () => {
  test('a timeout anywhere in the cause chain is a timeout; another outage is unavailable; anything else an error', () => {
    assert.equal(storeFailure(new StoreUnavailableError('redis', new Error('Command timed out'))), 'timeout');
    assert.equal(storeFailure(new StoreUnavailableError('postgres', new Error('canceling statement due to statement timeout'))), 'timeout');
    assert.equal(storeFailure(new StoreUnavailableError('mysql', new Error('connect ECONNREFUSED 127.0.0.1:3306'))), 'unavailable');
    assert.equal(storeFailure(new TypeError('bad')), 'error');
    assert.equal(storeFailure(new GatehouseError('invalid_request')), 'error');
  });

  test('the decorator times calls, counts failures by kind, and passes feed, ping and close through', async () => {
    const inner = createMemoryStores();
    let fail: Error | null = null;
    const getSession = inner.sessions.getSession;
    inner.sessions.getSession = (id, now) => (fail ? Promise.reject(fail) : getSession(id, now));
    const m = new GatehouseMetrics();
    const stores = instrumentStores(inner, storeKinds('memory:', null, null), m, null);
    assert.equal(stores.feed, inner.feed);
    const s = makeSession();
    await stores.sessions.createSession(s, { maxPerUser: 10 });
    assert.equal((await stores.sessions.getSession(s.id, s.createdAt))?.id, s.id);
    fail = new StoreUnavailableError('redis', new Error('Command timed out'));
    await assert.rejects(stores.sessions.getSession(s.id, s.createdAt), StoreUnavailableError);
    fail = new StoreUnavailableError('redis', new Error('ECONNRESET'));
    await assert.rejects(stores.sessions.getSession(s.id, s.createdAt), StoreUnavailableError);
    const out = parseExposition(await m.registry.metrics());
    assert.equal(out.get('gatehouse_store_operation_duration_seconds_count{store="memory",operation="sessions.getSession"}'), 3);
    assert.equal(out.get('gatehouse_store_operation_duration_seconds_count{store="memory",operation="sessions.createSession"}'), 1);
    assert.equal(out.get('gatehouse_store_errors_total{store="memory",operation="sessions.getSession",kind="timeout"}'), 1);
    assert.equal(out.get('gatehouse_store_errors_total{store="memory",operation="sessions.getSession",kind="unavailable"}'), 1);
    await stores.ping();
    await stores.close();
  });

  test('store kinds follow the URLs: SQL ports on the database, hot state on Redis', () => {
    const k = storeKinds('postgres://db/x', 'redis://r', null);
    assert.equal(k('users'), 'postgres');
    assert.equal(k('sessions'), 'redis');
    assert.equal(k('proofs'), 'redis');
    assert.equal(storeKinds('mariadb://db/x', null, null)('sessions'), 'mysql');
    assert.equal(storeKinds('sqlite:./x.db', null, 'custom')('users'), 'custom');
  });
});

describe('the request-path histogram', () => {
  test('renders exactly like prom-client\'s Histogram for the same observations', async () => {
    const bounds = [0.001, 0.01, 0.1, 1];
    const a = new Registry();
    const b = new Registry();
    const light = new LightHistogram('h_seconds', 'help', ['route', 'status'], bounds, a);
    const ref = new Histogram({ name: 'h_seconds', help: 'help', labelNames: ['route', 'status'], buckets: bounds, registers: [b] });
    const values = [0, 0.0005, 0.001, 0.002, 0.05, 0.1, 0.5, 1, 3, 42];
    for (const [i, v] of values.entries()) {
      const labels = { route: i % 2 ? '/auth/login' : 'unmatched', status: i % 3 ? '200' : '404' };
      light.child([labels.route, labels.status]).observe(v);
      ref.observe(labels, v);
    }
    assert.deepEqual(parseExposition(await a.metrics()), parseExposition(await b.metrics()));
  });
});

describe('the metrics token', () => {
  test('matches only the exact token', () => {
    const t = 'x'.repeat(40);
    assert.equal(tokenMatches(t, t), true);
    assert.equal(tokenMatches(t + 'y', t), false);
    assert.equal(tokenMatches(t.slice(1), t), false);
    assert.equal(tokenMatches('', t), false);
  });
});

describe('start-up checks', () => {
  test('a metrics port bound beyond loopback is warned about; on loopback it is not', async () => {
    const { resolveConfig } = await import('../../src/config.js');
    const { checkProductionConfig } = await import('../../src/server/preflight.js');
    const base = { publicUrl: 'http://localhost:3000', databaseUrl: 'sqlite:./x.db' };
    const warn = (metrics: Record<string, unknown>) => checkProductionConfig(resolveConfig({ ...base, metrics })).filter((w) => w.includes('GATEHOUSE_METRICS_HOST'));
    assert.equal(warn({ port: 9464 }).length, 0);
    assert.equal(warn({ port: 9464, host: '0.0.0.0' }).length, 1);
    assert.equal(warn({ host: '0.0.0.0' }).length, 0, 'no port, nothing listens');
  });
});
