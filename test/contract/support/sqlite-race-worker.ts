// Worker for the SQLite cross-connection race test: each worker opens its own connection, waits at a
// shared barrier, then performs one operation so that all of them hit the database together.
import { parentPort, workerData } from 'node:worker_threads';
import { openSqliteStores } from '../../../src/stores/sqlite/index.js';
import { makeRefreshToken } from '../fixtures.js';

interface Job {
  path: string;
  barrier: SharedArrayBuffer;
  workers: number;
  oneTimeId: string;
  refreshId: string;
  sessionId: string;
  userId: string;
  now: number;
}

const job = workerData as Job;
const stores = openSqliteStores({ path: job.path });
const gate = new Int32Array(job.barrier);
Atomics.add(gate, 0, 1);
while (Atomics.load(gate, 0) < job.workers) Atomics.wait(gate, 0, Atomics.load(gate, 0), 5);

const successor = makeRefreshToken({ sessionId: job.sessionId, userId: job.userId, createdAt: job.now });
const consumed = await stores.oneTimeTokens.consumeOneTimeToken(job.oneTimeId, job.now);
const rotated = await stores.refreshTokens.rotateRefreshToken(job.refreshId, successor, job.now, 10_000, new Uint8Array(16));
await stores.close();
parentPort?.postMessage({ consumed, rotation: rotated.kind, successorId: successor.id });
