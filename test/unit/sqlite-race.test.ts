import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { openSqliteStores } from '../../src/stores/sqlite/index.js';
import { makeOneTimeToken, makeRefreshToken, makeSession, makeUser } from '../contract/fixtures.js';

const WORKERS = 4;

it('separate connections racing on one file: one consumer wins the one-time token, one rotation inserts a successor', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-sqlite-race-'));
  try {
    const path = join(dir, 'gatehouse.db');
    const stores = openSqliteStores({ path });
    const user = makeUser();
    const session = makeSession({ userId: user.id });
    const ott = makeOneTimeToken({ userId: user.id });
    const refresh = makeRefreshToken({ userId: user.id, sessionId: session.id });
    await stores.users.createUser(user);
    await stores.sessions.createSession(session, { maxPerUser: 10 });
    await stores.oneTimeTokens.createOneTimeToken(ott);
    await stores.refreshTokens.createRefreshToken(refresh);

    const barrier = new SharedArrayBuffer(4);
    const job = { path, barrier, workers: WORKERS, oneTimeId: ott.id, refreshId: refresh.id, sessionId: session.id, userId: user.id, now: Date.now() };
    const url = new URL('../contract/support/sqlite-race-worker.ts', import.meta.url);
    // Worker threads do not inherit tsx's loader, so the worker registers it before importing TypeScript.
    const bootstrap = `import { register } from ${JSON.stringify(import.meta.resolve('tsx/esm/api'))};
      register();
      await import(${JSON.stringify(url.href)});`;
    const results = await Promise.all(
      Array.from({ length: WORKERS }, () => new Promise<{ consumed: boolean; rotation: string; successorId: string }>((resolve, reject) => {
        const w = new Worker(new URL(`data:text/javascript,${encodeURIComponent(bootstrap)}`), { workerData: job });
        w.once('message', resolve);
        w.once('error', reject);
        w.once('exit', (code) => code !== 0 && reject(new Error(`worker exited with ${code}`)));
      })),
    );
    assert.equal(results.filter((r) => r.consumed).length, 1);
    assert.equal(results.filter((r) => r.rotation === 'rotated').length, 1);
    assert.equal(results.filter((r) => r.rotation === 'grace').length, WORKERS - 1);
    const inserted = [];
    for (const r of results) if (await stores.refreshTokens.getRefreshToken(r.successorId)) inserted.push(r.successorId);
    assert.equal(inserted.length, 1);
    assert.equal((await stores.refreshTokens.getRefreshToken(refresh.id))?.successorId, inserted[0]);
    await stores.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
