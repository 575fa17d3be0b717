/**
 * Process memory per cached session, in a process of its own started with --expose-gc: Gatehouse on
 * a filled store, then `K` cookies authenticated through the core (as GET /auth/me does), with heap
 * and off-heap memory read after a full GC before and after. The first K/4 sessions are of K/4
 * distinct users (each adds a session and a user to the caches); the other 3K/4 are further
 * sessions of those users (each adds a session only). So
 *   per session = Δ(second part) / (3K/4),  per user = Δ(first part) / (K/4) − per session.
 * Sessions 4u..4u+3 are of user u (fixture.ts). Reads {config, seed, n, k} as JSON on stdin (n: live
 * sessions in the store, at least k + 400); prints one JSON line.
 */
import { text } from 'node:stream/consumers';
import type { GatehouseConfigInput } from '../../src/config.js';
import { createGatehouseNode } from '../../src/http/node.js';
import { SESSIONS_PER_USER, sessionToken } from './fixture.js';

interface MemorySpec {
  config: GatehouseConfigInput;
  seed: string;
  n: number;
  k: number;
}

const spec = JSON.parse(await text(process.stdin)) as MemorySpec;
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc');
const quarter = Math.floor(spec.k / 4);
if (4 * quarter + 400 > spec.n) throw new Error(`k (${spec.k}) + 400 must not exceed the sessions filled (${spec.n})`);

const gh = await createGatehouseNode({ config: { ...spec.config, cacheMaxEntries: spec.k + 1000 } });
const pop = { seed: spec.seed, at: 0 };
const auth = async (i: number) => {
  const r = await gh.core.sessions.authenticateCookie(sessionToken(pop, 'live', i).token);
  if (r === null || !('session' in r)) throw new Error(`session ${i} did not authenticate`);
};
const used = (): number => {
  for (let j = 0; j < 4; j++) gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
};
const S = SESSIONS_PER_USER;
// Warm the code paths on sessions outside the measured ones (the end of the range).
for (let i = spec.n - 400; i < spec.n; i++) await auth(i);
const before = used();
for (let u = 0; u < quarter; u++) await auth(S * u);
const mid = used();
for (let j = 1; j < S; j++) for (let u = 0; u < quarter; u++) await auth(S * u + j);
const after = used();
const d = gh.core.diagnostics();
const perSession = (after - mid) / ((S - 1) * quarter);
const perUser = (mid - before) / quarter - perSession;
process.stdout.write(JSON.stringify({ k: S * quarter, cachedSessions: d.cachedSessions, bytesPerSession: perSession, bytesPerUser: perUser, heapBefore: before, heapAfter: after }) + '\n');
await gh.close();
