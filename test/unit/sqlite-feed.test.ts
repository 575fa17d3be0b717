import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
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
