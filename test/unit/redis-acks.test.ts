/**
 * The replica barrier (src/stores/redis/acks.ts) against a scripted connection: what it sends, when a
 * caller is covered by a barrier, and what a missing acknowledgement becomes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StoreUnavailableError } from '../../src/errors.js';
import { ReplicaAcks } from '../../src/stores/redis/acks.js';
import type { RedisClient } from '../../src/stores/redis/client.js';

interface Sent {
  commands: unknown[][];
  release(reply: [Error | null, unknown][]): void;
}

/** A connection whose pipelines wait until the test releases them. */
function scripted() {
  const sent: Sent[] = [];
  const waiters: (() => void)[] = [];
  const conn = {
    pipeline() {
      const commands: unknown[][] = [];
      const p = {
        set(...a: unknown[]) {
          commands.push(['SET', ...a]);
          return p;
        },
        call(...a: unknown[]) {
          commands.push(a);
          return p;
        },
        exec() {
          return new Promise<[Error | null, unknown][]>((resolve) => {
            sent.push({ commands, release: resolve });
            for (const w of waiters.splice(0)) w();
          });
        },
      };
      return p;
    },
    disconnect() {},
  };
  const nextSent = async (n: number) => {
    while (sent.length < n) await new Promise<void>((r) => waiters.push(r));
    return sent[n - 1]!;
  };
  return { conn: conn as unknown as RedisClient, sent, nextSent };
}

const ok = (acked: number): [Error | null, unknown][] => [[null, 'OK'], [null, acked]];
const settled = async (p: Promise<unknown>) => {
  let done = false;
  void p.then(() => (done = true), () => (done = true));
  await new Promise((r) => setImmediate(r));
  return done;
};

describe('replica barrier', () => {
  it('writes a barrier key and waits for the replicas on the same connection, in one pipeline', async () => {
    const { conn, nextSent } = scripted();
    const acks = new ReplicaAcks(conn, { replicas: 2, timeoutMs: 250 });
    const p = acks.confirm('gh:w:{u1}');
    const b = await nextSent(1);
    assert.deepEqual(b.commands, [['SET', 'gh:w:{u1}', '1', 'PX', 10_000], ['WAIT', 2, 250]]);
    b.release(ok(2));
    await p;
  });

  it('each caller\'s writes go in the barrier\'s pipeline, before the barrier, and each caller gets its own results', async () => {
    const { conn, nextSent } = scripted();
    const acks = new ReplicaAcks(conn, { replicas: 1, timeoutMs: 250 });
    const first = acks.confirm('k', [(p) => p.call('HDEL', 'u:{a}', 'x')]);
    const b1 = await nextSent(1);
    const second = acks.confirm('k', [(p) => p.call('HDEL', 'u:{a}', 'y'), (p) => p.call('DEL', 'd:{a}:y')]);
    const third = acks.confirm('k', [(p) => p.call('ZADD', 'feed', 1, 'e')]);
    b1.release([[null, 1], [null, 'OK'], [null, 1]]);
    assert.deepEqual(await first, [1]);
    const b2 = await nextSent(2);
    assert.deepEqual(b2.commands, [['HDEL', 'u:{a}', 'y'], ['DEL', 'd:{a}:y'], ['ZADD', 'feed', 1, 'e'], ['SET', 'k', '1', 'PX', 10_000], ['WAIT', 1, 250]]);
    b2.release([[null, 0], [null, 1], [null, 1], [null, 'OK'], [null, 1]]);
    assert.deepEqual(await second, [0, 1]);
    assert.deepEqual(await third, [1]);
  });

  it('callers arriving while a barrier is in flight share the next one: two barriers for ten callers', async () => {
    const { conn, sent, nextSent } = scripted();
    const acks = new ReplicaAcks(conn, { replicas: 1, timeoutMs: 250 });
    const first = acks.confirm('k');
    const b1 = await nextSent(1);
    const later = Array.from({ length: 9 }, () => acks.confirm('k'));
    // Their writes may have come after the first barrier: it does not cover them.
    assert.equal(await settled(Promise.all(later)), false);
    b1.release(ok(1));
    await first;
    assert.equal(await settled(Promise.all(later)), false, 'still waiting for a barrier of their own');
    const b2 = await nextSent(2);
    b2.release(ok(1));
    await Promise.all(later);
    assert.equal(sent.length, 2);
  });

  it('fewer acknowledgements than asked is a StoreUnavailableError with Retry-After, for every caller it covered', async () => {
    const { conn, nextSent } = scripted();
    const acks = new ReplicaAcks(conn, { replicas: 1, timeoutMs: 250 });
    const a = acks.confirm('k');
    (await nextSent(1)).release(ok(0));
    await assert.rejects(a, (e: unknown) => e instanceof StoreUnavailableError && e.retryAfter === 1 && /0 of 1 replica/.test(String((e.cause as Error).message)));
  });

  it('an error reply (a replica-less master refusing writes) is an outage, not a bug', async () => {
    const { conn, nextSent } = scripted();
    const acks = new ReplicaAcks(conn, { replicas: 1, timeoutMs: 250 });
    const a = acks.confirm('k');
    const err = Object.assign(new Error('NOREPLICAS Not enough good replicas to write.'), { name: 'ReplyError' });
    (await nextSent(1)).release([[err, null], [null, 0]]);
    await assert.rejects(a, StoreUnavailableError);
  });

  it('barriers on different keys (different masters of a Cluster) do not wait for each other', async () => {
    const { conn, nextSent } = scripted();
    const acks = new ReplicaAcks(conn, { replicas: 1, timeoutMs: 250 });
    const a = acks.confirm('gh:w:{u1}');
    const b = acks.confirm('gh:w:{u2}');
    const s1 = await nextSent(1);
    const s2 = await nextSent(2);
    s2.release(ok(1));
    await b;
    assert.equal(await settled(a), false);
    s1.release(ok(1));
    await a;
  });

  it('refuses a replica count below 1 at construction: 0 means the stores do not wrap at all', () => {
    const { conn } = scripted();
    assert.throws(() => new ReplicaAcks(conn, { replicas: 0, timeoutMs: 250 }), TypeError);
  });
});
