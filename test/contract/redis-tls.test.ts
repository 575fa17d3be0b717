/**
 * `rediss+cluster://` and `rediss+sentinel://` over real TLS: servers of our own that accept TLS
 * only (the plain port closed), with a certificate for 127.0.0.1 from a throwaway CA made here with
 * openssl. The stores are handed that CA through the `tls` option (the server reads it from
 * NODE_EXTRA_CA_CERTS); without it the certificate is refused, never a fall back to plain text.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { StoreUnavailableError } from '../../src/errors.js';
import { openRedisStores } from '../../src/stores/redis/index.js';
import { makeTestCertificates, startRedisCluster, type RedisCluster, type TestCertificates } from '../support/redis-cluster.js';
import { startSentinelGroup, type SentinelGroup } from '../support/redis-sentinel.js';
import { testPrefix } from '../support/services.js';
import { makeSession } from './fixtures.js';

const have = (cmd: string, arg: string) => spawnSync(cmd, [arg]).status === 0;
const haveBinaries = have('redis-server', '--version') && have('redis-cli', '--version') && have('openssl', 'version');

if (!haveBinaries && process.env.CI !== 'true') {
  describe('redis over TLS', { skip: 'redis-server, redis-cli and openssl are needed (apt-get install redis-server openssl)' }, () => {});
} else {
  if (!haveBinaries) throw new Error('redis-server, redis-cli and openssl are required under CI=true');
  const AUTH = { user: 'gatehouse', password: 'tls pw' };
  let dir = '';
  let certs: TestCertificates;
  let cluster: RedisCluster | undefined;
  let group: SentinelGroup | undefined;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-tls-'));
    certs = await makeTestCertificates(dir);
    [cluster, group] = await Promise.all([
      startRedisCluster({ auth: AUTH, tls: certs, nodeTimeoutMs: 2000 }),
      startSentinelGroup({ auth: AUTH, tls: certs, sentinels: 1, sentinelPassword: 'tls sentinel pw' }),
    ]);
  });
  after(async () => {
    await cluster?.stop();
    await group?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const roundTrip = async (url: string, withCa: boolean) => {
    const stores = await openRedisStores({ url, prefix: testPrefix(), commandTimeoutMs: 1000, ...(withCa ? { tls: { ca: readFileSync(certs.ca) } } : {}) });
    try {
      for (let k = 0; k < 10; k++) {
        const s = makeSession();
        await stores.sessions.createSession(s, { maxPerUser: 5 });
        assert.equal((await stores.sessions.getSession(s.id, Date.now()))?.id, s.id);
        assert.ok(await stores.sessions.deleteSession(s.id));
      }
      return stores.replicaAcks;
    } finally {
      await stores.close();
    }
  };

  describe('redis over TLS', () => {
    it('rediss+cluster:// reaches every node over TLS, with the user and password, trusting the given CA', async () => {
      assert.match(cluster!.url, /^rediss\+cluster:\/\/gatehouse:tls%20pw@/);
      await roundTrip(cluster!.url, true);
    });

    it('rediss+sentinel:// asks the Sentinel and talks to the master over TLS, revocations confirmed by the replica', async () => {
      assert.match(group!.url, /^rediss\+sentinel:\/\//);
      assert.equal(await roundTrip(group!.url, true), 1);
    });

    it('without the CA the certificate is refused: a store error, not plain text', async () => {
      for (const url of [cluster!.url, group!.url]) {
        await assert.rejects(roundTrip(url, false), (e: unknown) => e instanceof StoreUnavailableError, url.split(':')[0]);
      }
    });
  });
}
