/**
 * The change feed for processes sharing one SQLite file (the server, `gatehouse` CLI commands,
 * `serve --workers`): events are appended to `change_log` and delivered at once in this process;
 * other processes poll the table (an indexed `seq > ?` read every `pollMs`, 250 ms by default), so a
 * `gatehouse user disable` reaches a running server within one poll interval. Rows older than the
 * retention are pruned.
 *
 * A poll that fails (the file locked, unreadable, the table gone) marks the feed disconnected and
 * tells the subscribers, so the core stops trusting its revocation set and reads sessions from the
 * store; the first poll that succeeds again marks it connected, and the core replays what it missed.
 */
import type Database from 'better-sqlite3';
import type { ChangeEvent, ChangeFeed } from '../../ports.js';
import { Subscribers } from '../subscribers.js';

export interface SqliteFeedOptions {
  pollMs?: number;
  retentionMs?: number;
  now?: () => number;
}

export function createSqliteFeed(db: Database.Database, opts: SqliteFeedOptions = {}): ChangeFeed {
  const pollMs = opts.pollMs ?? 250;
  const retentionMs = opts.retentionMs ?? 2 * 3_600_000;
  const now = opts.now ?? Date.now;
  const insert = db.prepare('INSERT INTO change_log (at, event) VALUES (?, ?)');
  const after = db.prepare('SELECT seq, event FROM change_log WHERE seq > ? ORDER BY seq LIMIT 1000');
  const since = db.prepare('SELECT event FROM change_log WHERE at >= ? ORDER BY seq');
  const head = db.prepare('SELECT coalesce(max(seq), 0) AS seq FROM change_log');
  const prune = db.prepare('DELETE FROM change_log WHERE at < ?');
  const subscribers = new Subscribers();
  const own = new Set<number>();
  let lastSeq = (head.get() as { seq: number }).seq;
  let open = true;
  let healthy = true;
  let lastPrune = 0;

  const poll = () => {
    if (!open || subscribers.size === 0) return;
    try {
      for (;;) {
        const rows = after.all(lastSeq) as Array<{ seq: number; event: string }>;
        for (const r of rows) {
          lastSeq = r.seq;
          if (own.delete(r.seq)) continue;
          subscribers.deliver(JSON.parse(r.event) as ChangeEvent);
        }
        if (rows.length < 1000) break;
      }
    } catch {
      // The next poll tries again and skips nothing (lastSeq only moves past delivered rows), but
      // until then events from other processes may be missing: say so rather than stay trusted.
      if (healthy) {
        healthy = false;
        subscribers.status(false);
      }
      return;
    }
    if (!healthy) {
      healthy = true;
      subscribers.status(true);
    }
  };
  const timer = setInterval(poll, pollMs);
  timer.unref();

  return {
    retentionMs,
    get connected() {
      return open && healthy;
    },
    async publish(e) {
      if (!open) throw new Error('change feed is closed');
      const t = now();
      const r = insert.run(t, JSON.stringify(e));
      own.add(Number(r.lastInsertRowid));
      subscribers.deliver(e);
      if (t - lastPrune > 60_000) {
        lastPrune = t;
        prune.run(t - retentionMs);
      }
    },
    subscribe(handlers) {
      return subscribers.add(handlers);
    },
    async replay(from) {
      return (since.all(from) as Array<{ event: string }>).map((r) => JSON.parse(r.event) as ChangeEvent);
    },
    async close() {
      if (!open) return;
      open = false;
      clearInterval(timer);
      subscribers.closeAll();
    },
  };
}
