/**
 * The change feed over MySQL/MariaDB, which has no LISTEN/NOTIFY: events are appended to `change_log`
 * and every instance polls it (`seq > last`, one indexed read every `pollMs`, 250 ms by default). An
 * event therefore reaches every other instance within one poll interval plus one query (bounded by
 * the store timeout); this instance's own subscribers get it at once. While polls fail the feed reports
 * itself disconnected, and the core confirms sessions in the store until it has replayed the gap.
 *
 * No event is skipped: `seq` is handed out under the lock of the single `change_head` row, which is
 * held until the publishing transaction commits, so rows become visible in `seq` order. (An
 * AUTO_INCREMENT key does not give that: two inserts may commit in the opposite order of their keys,
 * and a poller that has read the later one would never read the earlier.)
 */
import { randomBytes } from 'node:crypto';
import type { ChangeEvent, ChangeFeed, Clock } from '../../ports.js';
import { Subscribers } from '../subscribers.js';
import type { Db } from './db.js';
import { deleteInBatches } from './sweep.js';

export interface MysqlFeedOptions {
  db: Db;
  /** Delay between the end of one poll and the start of the next (ms, default 250, at most 5000). */
  pollMs?: number;
  /** Events stay replayable at least this long (default and minimum: 2 h). */
  retentionMs?: number;
  clock?: Clock;
}

export interface MysqlChangeFeed extends ChangeFeed {
  readonly pollMs: number;
}

const TWO_HOURS = 2 * 3_600_000;
const PAGE = 1000;

export async function createMysqlFeed(opts: MysqlFeedOptions): Promise<MysqlChangeFeed> {
  const { db } = opts;
  const pollMs = opts.pollMs ?? 250;
  if (!(pollMs > 0 && pollMs <= 5000)) throw new TypeError(`pollMs must be in (0, 5000], got ${pollMs}`);
  const retentionMs = Math.max(opts.retentionMs ?? TWO_HOURS, TWO_HOURS);
  const clock = opts.clock ?? { now: () => Date.now() };
  const subscribers = new Subscribers();
  const origin = randomBytes(12).toString('base64url');
  /** Tags of this feed's events in flight or published but not yet seen by the poller. */
  const own = new Set<string>();
  let counter = 0;
  let lastSeq = (await db.exec<{ seq: number }>(`SELECT seq FROM change_head WHERE id = 1`)).rows[0]?.seq ?? 0;
  let connected = true;
  let closed = false;
  let lastPrune = 0;
  let timer: NodeJS.Timeout | null = null;
  let polling: Promise<void> | null = null;

  const setStatus = (up: boolean) => {
    if (connected === up) return;
    connected = up;
    subscribers.status(up);
  };

  const pollOnce = async () => {
    try {
      for (;;) {
        const r = await db.exec<{ seq: number; tag: string; event: string }>(
          `SELECT seq, tag, event FROM change_log WHERE seq > ? ORDER BY seq LIMIT ${PAGE}`,
          [lastSeq],
        );
        for (const row of r.rows) {
          lastSeq = row.seq;
          if (own.delete(row.tag)) continue;
          subscribers.deliver(JSON.parse(row.event) as ChangeEvent);
        }
        if (r.rows.length < PAGE) break;
      }
      setStatus(true);
    } catch {
      // Nothing is skipped: lastSeq only moves past rows that were delivered.
      setStatus(false);
    }
  };

  const schedule = () => {
    if (closed) return;
    timer = setTimeout(() => {
      timer = null;
      polling = pollOnce().finally(() => {
        polling = null;
        schedule();
      });
    }, pollMs);
    timer.unref();
  };
  schedule();

  return {
    retentionMs,
    pollMs,
    get connected() {
      return connected && !closed;
    },
    async publish(e) {
      if (closed) throw new Error('change feed is closed');
      const tag = `${origin}:${++counter}`;
      own.add(tag);
      const payload = JSON.stringify(e);
      try {
        await db.tx(async (q) => {
          // The head row's lock is held until commit: the next publisher gets seq + 1 only after this
          // row is visible (see the top of this file).
          const head = await q.exec(`UPDATE change_head SET seq = LAST_INSERT_ID(seq + 1) WHERE id = 1`);
          await q.exec(`INSERT INTO change_log (seq, at, tag, event) VALUES (?, ?, ?, ?)`, [head.insertId, e.at, tag, payload]);
        });
      } catch (err) {
        // Not committed (or not known to be): let the poller deliver it if it did commit after all.
        own.delete(tag);
        throw err;
      }
      subscribers.deliver(e);
      // Prune by the publisher's own timeline (event times), at most once a minute, in batches.
      const now = clock.now();
      if (now - lastPrune > 60_000) {
        lastPrune = now;
        await deleteInBatches(db, 'change_log', 'at', e.at - retentionMs, true).catch(() => {});
      }
    },
    subscribe(handlers) {
      return subscribers.add(handlers);
    },
    async replay(since) {
      const r = await db.exec<{ event: string }>(`SELECT event FROM change_log WHERE at >= ? ORDER BY seq`, [since]);
      return r.rows.map((x) => JSON.parse(x.event) as ChangeEvent);
    },
    async close() {
      if (closed) return;
      closed = true;
      if (timer) clearTimeout(timer);
      await polling;
      subscribers.closeAll();
    },
  };
}
