/**
 * Process memory per cached session, in a process of its own started with --expose-gc: Gatehouse on
 * a filled store, then `K` cookies authenticated through the core (as GET /auth/me does), with heap
 * and off-heap memory read after a full GC before and after. The first K/4 sessions are of K/4
 * distinct users (each adds a session and a user to the caches); the other 3K/4 are further
 * sessions of those users (each adds a session only). So
 *   per session = Δ(second part) / (3K/4),  per user = Δ(first part) / (K/4) − per session.
 * Reads {config, seed, users, k} as JSON on stdin; prints one JSON line.
 */
import { text } from 'node:stream/consumers';
import type { GatehouseConfigInput } from '../../src/config.js';
import { createGatehouseNode } from '../../src/http/node.js';
import { sessionToken } from './fixture.js';

interface MemorySpec {
  config: GatehouseConfigInput;
  seed: string;
  users: number;
  k: number;
}

const spec = JSON.parse(await text(process.stdin)) as MemorySpec;
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc');
const quarter = Math.floor(spec.k / 4);
if (quarter > spec.users) throw new Error(`k/4 (${quarter}) must not exceed the users (${spec.users})`);

const gh = await createGatehouseNode({ config: { ...spec.config, cacheMaxEntries: spec.k + 1000 } });
const pop = { seed: spec.seed, users: spec.users, at: 0 };
const auth = async (i: number) => {
  const r = await gh.core.sessions.authenticateCookie(sessionToken(pop, 'live', i).token);
  if (r === null || !('session' in r)) throw new Error(`session ${i} did not authenticate`);
};
const used = (): number => {
  for (let j = 0; j < 4; j++) gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
};
// Warm the code paths on sessions outside the measured ones (users from the far end of the range).
for (let i = spec.users - 200; i < spec.users; i++) await auth(i);
const before = used();
for (let u = 0; u < quarter; u++) await auth(u);
const mid = used();
for (let j = 1; j <= 3; j++) for (let u = 0; u < quarter; u++) await auth(u + j * spec.users);
const after = used();
const d = gh.core.diagnostics();
const perSession = (after - mid) / (3 * quarter);
const perUser = (mid - before) / quarter - perSession;
process.stdout.write(JSON.stringify({ k: 4 * quarter, cachedSessions: d.cachedSessions, bytesPerSession: perSession, bytesPerUser: perUser, heapBefore: before, heapAfter: after }) + '\n');
await gh.close();
