/**
 * Redis Cluster failover under load: three masters with a replica each (our own processes, started
 * and stopped by pid, every node requiring an ACL user), three Gatehouse instances behind nginx. The
 * master serving the revocation feed's slot (and a third of the users) is SIGKILLed under steady
 * load; its replica is promoted; the killed node comes back as a replica. See failover.ts for what is
 * checked; figures: test-results/cluster/failover-cluster.json.
 */
import { after, before, describe, test } from 'node:test';
import { bedPrerequisites, startBed, type Bed } from './bed.js';
import { runFailover } from './failover.js';
import { startRedisCluster, type RedisCluster } from '../support/redis-cluster.js';

const log = (line: string) => process.stdout.write(`# ${line}\n`);
const skip = await bedPrerequisites();
const NODE_TIMEOUT_MS = 2000;

describe('Redis Cluster: a master SIGKILLed under load through nginx and three instances', { skip: skip ?? false, timeout: 300_000 }, () => {
  let cluster: RedisCluster | undefined;
  let bed: Bed | undefined;
  before(async () => {
    cluster = await startRedisCluster({ replicas: 1, auth: { user: 'gatehouse', password: 'failover cluster pw' }, nodeTimeoutMs: NODE_TIMEOUT_MS });
    bed = await startBed({ log, redisUrl: cluster.url });
    log(`cluster bed: nginx ${bed.nginxUrl}, nodes ${cluster.ports.join(',')}, schema ${bed.schema}`);
  });
  after(async () => {
    await bed?.stop();
    await cluster?.stop();
  });

  test('answers are 200 or 503 with Retry-After, every instance recovers by itself, no acknowledged revocation is lost, PostgreSQL loses nothing', async () => {
    const c = cluster!;
    const feedKey = `${bed!.prefix}feed`;
    let killed = 0;
    await runFailover(bed!, {
      name: 'cluster',
      describe: { kind: 'Redis Cluster', masters: 3, replicas_per_master: 1, cluster_node_timeout_ms: NODE_TIMEOUT_MS, killed: 'the master of the feed log\'s slot', wait_replicas: 'auto (1)' },
      async kill() {
        killed = await c.masterOf(feedKey);
        await c.kill(killed);
        return killed;
      },
      async promoted() {
        const m = await c.masterOf(feedKey);
        return m !== killed && (await c.cli(m, 'CLUSTER', 'INFO')).includes('cluster_state:ok');
      },
      rejoin: () => c.restart(killed),
      async rejoined() {
        const info = await c.cli(killed, 'INFO', 'replication');
        return info.includes('role:slave') && info.includes('master_link_status:up');
      },
    }, { log });
  });
});
