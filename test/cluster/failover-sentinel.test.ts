/**
 * Redis Sentinel failover under load: a master, its replica and three Sentinels (all our own
 * processes, started and stopped by pid, the servers requiring an ACL user and the Sentinels a
 * password), three Gatehouse instances behind nginx finding the master through the Sentinels. The
 * master is SIGKILLed under steady load; the Sentinels promote the replica; the killed node comes
 * back as a replica. See failover.ts for what is checked; figures: test-results/cluster/failover-sentinel.json.
 */
import { after, before, describe, test } from 'node:test';
import { bedPrerequisites, startBed, type Bed } from './bed.js';
import { runFailover } from './failover.js';
import { startSentinelGroup, type SentinelGroup } from '../support/redis-sentinel.js';

const log = (line: string) => process.stdout.write(`# ${line}\n`);
const skip = await bedPrerequisites();

describe('Redis Sentinel: the master SIGKILLed under load through nginx and three instances', { skip: skip ?? false, timeout: 300_000 }, () => {
  let group: SentinelGroup | undefined;
  let bed: Bed | undefined;
  before(async () => {
    group = await startSentinelGroup({ auth: { user: 'gatehouse', password: 'failover data pw' }, sentinelPassword: 'failover sentinel pw', downAfterMs: 1000 });
    bed = await startBed({ log, redisUrl: group.url });
    log(`sentinel bed: nginx ${bed.nginxUrl}, data ${group.dataPorts.join(',')}, sentinels ${group.sentinelPorts.join(',')}, schema ${bed.schema}`);
  });
  after(async () => {
    await bed?.stop();
    await group?.stop();
  });

  test('answers are 200 or 503 with Retry-After, every instance recovers by itself, no acknowledged revocation is lost, PostgreSQL loses nothing', async () => {
    const g = group!;
    let killed = 0;
    let promoted = 0;
    await runFailover(bed!, {
      name: 'sentinel',
      describe: { kind: 'Redis Sentinel', master_and_replicas: '1 master + 1 replica', sentinels: 3, quorum: 2, down_after_ms: 1000, wait_replicas: 'auto (1)' },
      async kill() {
        killed = await g.master();
        await g.kill(killed);
        return killed;
      },
      async promoted() {
        const m = await g.master();
        if (m === killed) return false;
        if (!(await g.cli(m, 'INFO', 'replication')).includes('role:master')) return false;
        promoted = m;
        return true;
      },
      // As its configuration, rewritten by the Sentinels, would have it: a replica of the new master.
      rejoin: () => g.restart(killed, promoted),
      async rejoined() {
        const info = await g.cli(killed, 'INFO', 'replication');
        return info.includes('role:slave') && info.includes('master_link_status:up');
      },
    }, { log });
  });
});
