import { openFiller } from './fill.js';
import { sessionToken, spread, usersFor } from './fixture.js';
import { mkdirSync, existsSync } from 'node:fs';
import { createGatehouseNode } from '../../src/http/node.js';
const dir = '/tmp/scale-miss';
const N = 100_000;
if (!existsSync(dir + '/gatehouse.db')) {
  mkdirSync(dir, { recursive: true });
  const f = await openFiller({ kind: 'sqlite', sqlitePath: dir + '/gatehouse.db' }, { seed: 'try', at: Date.now() });
  await f.users(0, usersFor(N)); await f.sessions('live', 0, N); await f.revocations(1000, Date.now());
  await f.close();
}
const cache = Number(process.argv[2] ?? 0);
const gh = await createGatehouseNode({ config: { publicUrl: 'http://127.0.0.1', logLevel: 'silent', databaseUrl: 'sqlite:' + dir + '/gatehouse.db', dataDir: dir, cacheMaxEntries: cache, session: { idleTtl: '2d', absoluteTtl: '7d', renewInterval: '1d' } } });
const pop = { seed: 'try', at: 0 };
const toks = spread(N, cache > 0 ? 10_000 : 50_000, 2).map((i) => sessionToken(pop, 'live', i).token);
for (const t of toks.slice(0, 10_000)) await gh.core.sessions.authenticateCookie(t);
for (let round = 0; round < 2; round++) {
  const t0 = performance.now();
  for (const t of toks) { const r = await gh.core.sessions.authenticateCookie(t); if (!r) throw new Error('no'); }
  console.log(cache, ((performance.now() - t0) / toks.length * 1000).toFixed(1), 'µs per authenticateCookie');
}
await gh.close();
