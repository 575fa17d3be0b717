import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { RevocationSet } from '../../src/core/revocations.js';
import type { ChangeEvent } from '../../src/ports.js';
import { openSqliteStores } from '../../src/stores/sqlite/index.js';

describe('SQLite change feed between processes on one file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-feed-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('an event published through one connection reaches a subscriber on another within a poll, once', async () => {
    const path = join(dir, 'gh.db');
    const a = openSqliteStores({ path, feedPollMs: 20 });
    const b = openSqliteStores({ path, feedPollMs: 20 });
    try {
      const seenByB: ChangeEvent[] = [];
      const seenByA: ChangeEvent[] = [];
      b.feed.subscribe({ event: (e) => seenByB.push(e), status: () => {} });
      a.feed.subscribe({ event: (e) => seenByA.push(e), status: () => {} });
      const e: ChangeEvent = { type: 'sessions.revoked', ids: ['s1', 's2'], at: Date.now() };
      await a.feed.publish(e);
      const deadline = Date.now() + 2000;
      while (seenByB.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      assert.deepEqual(seenByB, [e]);
      // Give A's own poller time to see its row: it must not deliver its own event twice.
      await new Promise((r) => setTimeout(r, 80));
      assert.deepEqual(seenByA, [e]);
      assert.deepEqual(await b.feed.replay(e.at - 1), [e]);
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe('SQLite change feed: a failing poll', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-feed-fail-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  const until = async (what: string, cond: () => boolean) => {
    const deadline = Date.now() + 5000;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };

  it('marks the feed disconnected (the revocation set stops trusting itself), then recovers and delivers what it missed', async () => {
    const path = join(dir, 'gh.db');
    const a = openSqliteStores({ path, feedPollMs: 20 });
    const b = openSqliteStores({ path, feedPollMs: 20 });
    const other = new Database(path);
    const revocations = new RevocationSet(b.feed, { now: () => Date.now() }, 60_000);
    try {
      const statuses: boolean[] = [];
      b.feed.subscribe({ event: () => {}, status: (c) => statuses.push(c) });
      revocations.start();
      await until('the revocation set to trust the feed', () => revocations.trusted);
      assert.equal(b.feed.connected, true);

      // Another process makes the log unreadable: B's polls now fail.
      other.exec('ALTER TABLE change_log RENAME TO change_log_away');
      await until('the feed to report the failure', () => statuses.includes(false));
      assert.equal(b.feed.connected, false, 'a feed whose polls fail is not connected');
      assert.equal(revocations.trusted, false, 'the core must read sessions from the store meanwhile');

      // The log comes back with a revocation made meanwhile; B recovers and applies it.
      other.exec('ALTER TABLE change_log_away RENAME TO change_log');
      await a.feed.publish({ type: 'sessions.revoked', ids: ['during-outage'], at: Date.now() });
      await until('the feed to recover', () => b.feed.connected && revocations.trusted);
      assert.deepEqual(statuses, [false, true]);
      await until('the missed revocation', () => revocations.has('during-outage'));
    } finally {
      revocations.stop();
      other.close();
      await a.close();
      await b.close();
    }
  });
});
