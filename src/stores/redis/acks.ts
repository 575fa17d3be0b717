/**
 * Replica acknowledgement: a revocation is answered only once a replica holds it.
 *
 * Redis replicates asynchronously, so a master that dies can take its last writes with it, and the
 * replica promoted in its place (by Sentinel or by Redis Cluster) never saw them. For a login that
 * costs a sign-in; for a revocation it would bring a logged-out session back. So after the writes of
 * a revocation, `confirm(key)` sends `SET <barrier> PX …` followed by `WAIT <replicas> <timeout>` to
 * the master that owns `key`'s slot, on a connection of its own, and resolves only when that many
 * replicas have acknowledged the barrier. Replication is one ordered stream per master, so a replica
 * that has the barrier has every write the master applied before it — the revocation's, made on the
 * main connection, and an earlier attempt's, made by another instance. Otherwise it throws
 * StoreUnavailableError: the request gets 503 with Retry-After and the client retries.
 *
 * The connection is separate because WAIT blocks the connection it runs on, and the main one carries
 * every request's reads. Callers that arrive while a barrier is in flight share the next one (group
 * commit): under a burst of revocations there are at most two barriers per key at a time.
 */
import { StoreUnavailableError } from '../../errors.js';
import { wrapError, type RedisClient } from './client.js';

export interface ReplicaAckOptions {
  /** Replicas that must acknowledge a revocation before it is answered (at least 1 here). */
  replicas: number;
  /** How long WAIT may block; below the command timeout. */
  timeoutMs: number;
}

/** A barrier key lives this long: long enough to reach the replicas, short enough to cost nothing. */
const BARRIER_TTL_MS = 10_000;

export class ReplicaAcks {
  /** The barrier not yet sent, per key: a caller arriving now is covered by it. */
  private readonly queued = new Map<string, Promise<void>>();
  /** The barrier in flight, per key. */
  private readonly running = new Map<string, Promise<void>>();

  constructor(
    private readonly conn: RedisClient,
    readonly opts: ReplicaAckOptions,
  ) {
    if (!Number.isInteger(opts.replicas) || opts.replicas < 1) throw new TypeError('ReplicaAcks: replicas must be a positive integer');
    if (!Number.isInteger(opts.timeoutMs) || opts.timeoutMs < 1) throw new TypeError('ReplicaAcks: timeoutMs must be a positive integer');
  }

  /**
   * Resolves once every write the master of `key`'s slot applied before this call is on
   * `replicas` replicas; rejects with StoreUnavailableError when they do not confirm in time.
   */
  confirm(key: string): Promise<void> {
    const queued = this.queued.get(key);
    if (queued) return queued;
    const before = this.running.get(key);
    const next = (before ? before.catch(() => {}) : Promise.resolve()).then(() => {
      this.queued.delete(key);
      const run = this.barrier(key);
      this.running.set(key, run);
      void run.catch(() => {}).finally(() => {
        if (this.running.get(key) === run) this.running.delete(key);
      });
      return run;
    });
    this.queued.set(key, next);
    return next;
  }

  private async barrier(key: string): Promise<void> {
    const { replicas, timeoutMs } = this.opts;
    let out: [Error | null, unknown][] | null;
    try {
      out = await this.conn.pipeline().set(key, '1', 'PX', BARRIER_TTL_MS).call('WAIT', replicas, timeoutMs).exec();
    } catch (e) {
      throw wrapError(e);
    }
    const err = out?.find(([e]) => e !== null)?.[0];
    if (err || !out || out.length !== 2) {
      // A stale slot map after a failover: refresh it so the next barrier goes to the new master.
      if (err && /^(MOVED|ASK)\b/.test(err.message) && 'refreshSlotsCache' in this.conn) this.conn.refreshSlotsCache();
      throw wrapError(err ?? new Error('no reply to the replica barrier'));
    }
    const acked = Number(out[1]![1]);
    if (!(acked >= replicas)) {
      throw new StoreUnavailableError('redis', new Error(`${acked} of ${replicas} replica(s) acknowledged the revocation within ${timeoutMs} ms`));
    }
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
