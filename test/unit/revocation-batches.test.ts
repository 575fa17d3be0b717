/**
 * Revocations of many sessions are published in events small enough for every feed: Postgres refuses
 * NOTIFY payloads of 8000 bytes or more, and session ids that name a long user id are 86 characters.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { REVOCATION_EVENT_MAX_BYTES, revocationBatches } from '../../src/core/auth.js';
import { createPostgresFeed } from '../../src/stores/postgres/feed.js';
import { ownedId } from '../../src/ids.js';
import { dropSchema, POSTGRES_URL, requirePostgres, skipReason, testSchema } from '../support/services.js';

const longUser = 'u'.repeat(64);
const ids = (n: number) => Array.from({ length: n }, () => ownedId(randomBytes(16).toString('base64url'), longUser));

test('batches keep every id once, in order, each within the byte bound', () => {
  const all = ids(500);
  const batches = revocationBatches(all, REVOCATION_EVENT_MAX_BYTES);
  assert.deepEqual(batches.flat(), all);
  assert.ok(batches.length > 1);
  for (const b of batches) assert.ok(Buffer.byteLength(JSON.stringify(b)) <= REVOCATION_EVENT_MAX_BYTES, `${Buffer.byteLength(JSON.stringify(b))} bytes`);
  assert.deepEqual(revocationBatches([], 100), []);
  assert.deepEqual(revocationBatches(['x'.repeat(200)], 100), [['x'.repeat(200)]], 'an oversized id still goes, alone');
});

const pgUrl = await requirePostgres();
describe('on the Postgres feed', { skip: pgUrl === null ? skipReason('PostgreSQL', POSTGRES_URL) : false }, () => {
  const schema = testSchema();
  after(async () => {
    await dropSchema(pgUrl!, schema);
  });

  test('300 revocations of 86-character ids publish and arrive in full', async () => {
    const feed = await createPostgresFeed({ url: pgUrl!, schema });
    try {
      const all = ids(300);
      const at = Date.now();
      // One event of them all would be refused by NOTIFY ("payload string too long").
      await assert.rejects(feed.publish({ type: 'sessions.revoked', ids: all, at }));
      for (const batch of revocationBatches(all, REVOCATION_EVENT_MAX_BYTES)) await feed.publish({ type: 'sessions.revoked', ids: batch, at });
      const replayed = (await feed.replay(at)).flatMap((e) => (e.type === 'sessions.revoked' ? e.ids : []));
      assert.deepEqual(replayed.sort(), [...all].sort());
    } finally {
      await feed.close();
    }
  });
});
