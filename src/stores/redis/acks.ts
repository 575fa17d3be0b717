/**
 * Replica acknowledgement: a revocation is answered only once a replica holds it.
 *
 * Redis replicates asynchronously, so a master that dies can take its last writes with it, and the
 * replica promoted in its place (by Sentinel or by Redis Cluster) never saw them. For a login that
 * costs a sign-in; for a revocation it would bring a logged-out session back. So a revocation's
 * writes are sent as one pipeline: the writes themselves (idempotent: deleting what is gone already
 * changes nothing), `SET <barrier> PX …`, then `WAIT <replicas> <timeout>`. A pipeline goes to one
 * node, over one connection, so WAIT confirms exactly the writes it follows — on whichever node
 * took them. The barrier write makes WAIT meaningful when the writes changed nothing (an earlier
 * attempt did the work, maybe unconfirmed), and replication is one ordered stream per master, so a
 * replica that has the barrier has everything that master applied before it. A node that is not
 * the master of the slot answers MOVED; a restarted, emptied node that still claims the slot has no
 * replica to acknowledge: either way the result is StoreUnavailableError, 503 with Retry-After,
 * and the client retries.
 *
 * The connection is one of its own: WAIT blocks the connection it runs on, and the main one carries
 * every request's reads. Callers that arrive while a barrier is in flight are batched into the next
 * pipeline (group commit): under a burst of revocations there are at most two pipelines per key at
 * a time.
 */
import type { ChainableCommander } from 'ioredis';
import { StoreUnavailableError } from '../../errors.js';
import { wrapError, type RedisClient } from './client.js';

/** Appends one command to the pipeline (custom commands defined on the connection included). */
export type PipelineOp = (p: ChainableCommander & Record<string, (...args: (string | number | Buffer)[]) => ChainableCommander>) => unknown;

/**
 * The writes were applied (by the node that took them) but not confirmed by enough replicas: 503
 * all the same, with what the writes answered, so the caller knows what it did and can re-apply it.
 */
export class UnconfirmedWrites extends StoreUnavailableError {
  constructor(
    readonly results: unknown[],
    cause: Error,
  ) {
    super('redis', cause);
    this.name = 'UnconfirmedWrites';
  }
}

interface Waiter {
  ops: PipelineOp[];
  resolve(results: unknown[]): void;
  reject(e: unknown): void;
}

export interface ReplicaAckOptions {
  /** Replicas that must acknowledge a revocation before it is answered (at least 1 here). */
  replicas: number;
  /** How long WAIT may block; below the command timeout. */
  timeoutMs: number;
}

/** A barrier key lives this long: long enough to reach the replicas, short enough to cost nothing. */
const BARRIER_TTL_MS = 10_000;

export class ReplicaAcks {
  /** Callers waiting for the next pipeline of a key (not yet sent). */
  private readonly queued = new Map<string, Waiter[]>();
  /** Keys with a pipeline in flight. */
  private readonly busy = new Set<string>();

  constructor(
    private readonly conn: RedisClient,
    readonly opts: ReplicaAckOptions,
  ) {
    if (!Number.isInteger(opts.replicas) || opts.replicas < 1) throw new TypeError('ReplicaAcks: replicas must be a positive integer');
    if (!Number.isInteger(opts.timeoutMs) || opts.timeoutMs < 1) throw new TypeError('ReplicaAcks: timeoutMs must be a positive integer');
  }

  /**
   * Runs `ops` (commands on `key`'s slot) followed by a barrier on `key`, and resolves their
   * results once `replicas` replicas have acknowledged the barrier; rejects with
   * StoreUnavailableError when a command fails or the replicas do not confirm in time.
   */
  confirm(key: string, ops: PipelineOp[] = []): Promise<unknown[]> {
    return new Promise((resolve, reject) => {
      const q = this.queued.get(key);
      if (q) q.push({ ops, resolve, reject });
      else this.queued.set(key, [{ ops, resolve, reject }]);
      if (!this.busy.has(key)) void this.flush(key);
    });
  }

  private async flush(key: string): Promise<void> {
    const batch = this.queued.get(key);
    if (!batch) return;
    this.queued.delete(key);
    this.busy.add(key);
    try {
      const { results, shortfall } = await this.barrier(key, batch.flatMap((w) => w.ops));
      let i = 0;
      for (const w of batch) {
        const mine = results.slice(i, i + w.ops.length);
        if (shortfall) w.reject(new UnconfirmedWrites(mine, shortfall));
        else w.resolve(mine);
        i += w.ops.length;
      }
    } catch (e) {
      for (const w of batch) w.reject(e);
    } finally {
      this.busy.delete(key);
      if (this.queued.has(key)) void this.flush(key);
    }
  }

  private async barrier(key: string, ops: PipelineOp[]): Promise<{ results: unknown[]; shortfall: Error | null }> {
    const { replicas, timeoutMs } = this.opts;
    const p = this.conn.pipeline();
    for (const op of ops) op(p as Parameters<PipelineOp>[0]);
    p.set(key, '1', 'PX', BARRIER_TTL_MS).call('WAIT', replicas, timeoutMs);
    let out: [Error | null, unknown][] | null;
    try {
      out = await p.exec();
    } catch (e) {
      throw wrapError(e);
    }
    const err = out?.find(([e]) => e !== null)?.[0];
    if (err || !out || out.length !== ops.length + 2) {
      // A stale slot map after a failover: refresh it so the next pipeline goes to the new master.
      if (err && /^(MOVED|ASK)\b/.test(err.message) && 'refreshSlotsCache' in this.conn) this.conn.refreshSlotsCache();
      throw wrapError(err ?? new Error('no reply to the replica barrier'));
    }
    const acked = Number(out[out.length - 1]![1]);
    const results = out.slice(0, ops.length).map(([, v]) => v);
    const shortfall = acked >= replicas ? null : new Error(`${acked} of ${replicas} replica(s) acknowledged the revocation within ${timeoutMs} ms`);
    return { results, shortfall };
  }

  close(): void {
    this.conn.disconnect();
  }
}

/**
 * Replicas the deployment has right now: for a Cluster, whether any master has one (the client's
 * view of the slot map); for one server, the master's `connected_slaves`.
 */
export async function countReplicas(r: RedisClient): Promise<number> {
  if ('nodes' in r) return r.nodes('slave').length > 0 ? 1 : 0;
  const info = await r.info('replication');
  const m = /^connected_slaves:(\d+)/m.exec(info);
  return m ? Number(m[1]) : 0;
}
