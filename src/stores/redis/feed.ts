import type { ChangeEvent, ChangeFeed } from '../../ports.js';
import { Subscribers } from '../subscribers.js';
import { guard, type RedisClient } from './client.js';
import type { Keys } from './keys.js';

export interface RedisFeedOptions {
  /** Events stay replayable at least this long (default and minimum: 2 h). */
  retentionMs?: number;
}

const TWO_HOURS = 2 * 3_600_000;

/** A log entry and pub/sub message: the event with its sequence number (also written by durable.ts). */
export function feedPayload(seq: number, e: ChangeEvent): string {
  return JSON.stringify({ n: seq.toString(36).padStart(12, '0'), e });
}

/**
 * Change feed over Redis: publish appends to a sorted-set log (score = event time) for replay and
 * PUBLISHes for live delivery. A dedicated subscriber connection (ioredis re-subscribes by itself
 * after a reconnect) reports status(false) when it drops and status(true) once it is back.
 */
export async function createRedisFeed(r: RedisClient, k: Keys, opts: RedisFeedOptions = {}): Promise<ChangeFeed & { subscriber: RedisClient }> {
  const retentionMs = Math.max(opts.retentionMs ?? TWO_HOURS, TWO_HOURS);
  // The 'ready' handler below re-subscribes after every reconnect and confirms it, so the
  // client's own automatic re-subscription is turned off on a single node.
  const sub = 'nodes' in r ? r.duplicate() : r.duplicate({ autoResubscribe: false });
  sub.on('error', () => {});
  const subscribers = new Subscribers();
  let connected = false;
  let closed = false;
  const setStatus = (up: boolean) => {
    if (connected === up || (closed && up)) return;
    connected = up;
    subscribers.status(up);
  };
  sub.on('message', (channel: string, payload: string) => {
    if (channel !== k.channel) return;
    let e: ChangeEvent;
    try {
      e = (JSON.parse(payload) as { e: ChangeEvent }).e;
    } catch {
      return;
    }
    subscribers.deliver(e);
  });
  sub.on('close', () => setStatus(false));
  sub.on('end', () => setStatus(false));
  // 'ready' fires after every (re)connect; ioredis has re-issued SUBSCRIBE by then on a single node.
  // Confirm the subscription before reporting up, so "connected" really means "delivering".
  sub.on('ready', () => {
    sub.subscribe(k.channel).then(() => setStatus(true), () => {});
  });
  try {
    await guard(sub.subscribe(k.channel));
    setStatus(true);
  } catch {
    // Not reachable yet: the subscriber keeps retrying and reports status(true) when it gets there.
  }

  return {
    subscriber: sub,
    retentionMs,
    get connected() {
      return connected;
    },
    publish: (e) =>
      guard(async () => {
        // A sequence number keeps identical events distinct in the log and orders events of the
        // same millisecond (equal scores sort by member) in publish order.
        const seq = await r.incr(k.feedSeq);
        const payload = feedPayload(seq, e);
        await r.zadd(k.feedLog, e.at, payload);
        await r.zremrangebyscore(k.feedLog, '-inf', `(${e.at - retentionMs}`);
        await r.publish(k.channel, payload);
      }),
    subscribe(h) {
      return subscribers.add(h);
    },
    replay: (since) =>
      guard(async () => {
        const rows = await r.zrangebyscore(k.feedLog, since, '+inf');
        return rows.map((p) => (JSON.parse(p) as { e: ChangeEvent }).e);
      }),
    async close() {
      closed = true;
      connected = false;
      sub.disconnect();
    },
  };
}
