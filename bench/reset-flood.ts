/**
 * What a flood of made-up password-reset confirmations does to the server and to sign-ins meanwhile.
 *
 * A confirmation with an unknown token must cost no password hash (the token is checked first) and
 * one client address has a budget of confirmations (GATEHOUSE_RESET_CONFIRM_PER_IP, 30 per 15 min).
 * A Gatehouse node:http server with the shipped argon2id parameters on a SQLite file: while `--flood`
 * confirmations with random tokens run with `--concurrency` in flight, one user signs in again and again;
 * the figures are the flood's wall time, its answers by status, and the sign-in latency during it
 * against the same sign-in on the idle server.
 *
 *   node --import tsx bench/reset-flood.ts [--flood 300] [--concurrency 50] [--json]
 *
 * The same script run against a checkout from before the fix (token checked after hashing, no budget)
 * is the "before" column of the note; it needs only the routes, which have not changed.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createGatehouseNode } from '../src/http/node.js';
import { openStores } from '../src/stores/open.js';

const arg = (name: string, d: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : d;
};
const FLOOD = Number(arg('flood', '300'));
const CONCURRENCY = Number(arg('concurrency', '50'));
const PASSWORD = 'correct horse battery staple';
const SECRET = 'a bench secret of at least thirty-two characters';

const dir = mkdtempSync(join(tmpdir(), 'gh-bench-reset-'));
const stores = await openStores({ databaseUrl: `sqlite:${join(dir, 'gh.db')}` });
const server = createServer();
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const port = (server.address() as AddressInfo).port;
const gh = await createGatehouseNode({
  stores,
  config: { databaseUrl: 'sqlite::memory:', publicUrl: `http://localhost:${port}`, secret: SECRET, logLevel: 'silent' },
});
server.on('request', (req, res) => {
  if (!gh.handle(req, res)) res.writeHead(404).end();
});
const base = `http://127.0.0.1:${port}`;

async function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<number> {
  const res = await fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  await res.arrayBuffer();
  return res.status;
}

const email = 'flood@bench.example';
if ((await post('/auth/register', { email, password: PASSWORD })) !== 201) throw new Error('register failed');

/** Sign-in latencies (ms); sign-ins have their own budgets, apart from the confirmations'. */
async function logins(until: () => boolean, min: number): Promise<number[]> {
  const out: number[] = [];
  while (out.length < min || !until()) {
    const t0 = performance.now();
    const status = await post('/auth/login', { email, password: PASSWORD });
    if (status !== 200) throw new Error(`login answered ${status}`);
    out.push(performance.now() - t0);
  }
  return out;
}

const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;

const idle = await logins(() => true, 10);

const statuses = new Map<number, number>();
let sent = 0;
let done = false;
const t0 = performance.now();
const flood = Promise.all(
  Array.from({ length: CONCURRENCY }, async () => {
    while (sent < FLOOD) {
      sent++;
      const status = await post('/auth/password-reset/confirm', { token: randomBytes(32).toString('base64url'), new_password: `${PASSWORD} ${sent}` });
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
  }),
).then(() => {
  done = true;
  return performance.now() - t0;
});
const during = await logins(() => done, 3);
const floodMs = await flood;

const result = {
  flood: FLOOD,
  concurrency: CONCURRENCY,
  floodWallMs: Math.round(floodMs),
  answers: Object.fromEntries([...statuses].sort(([a], [b]) => a - b)),
  loginIdleMs: { p50: Math.round(q(idle, 0.5)), max: Math.round(Math.max(...idle)) },
  loginDuringFloodMs: { n: during.length, p50: Math.round(q(during, 0.5)), max: Math.round(Math.max(...during)) },
};
if (process.argv.includes('--json')) process.stdout.write(JSON.stringify(result) + '\n');
else {
  process.stdout.write(
    `reset-confirm flood: ${FLOOD} requests, ${CONCURRENCY} in flight, done in ${(floodMs / 1000).toFixed(1)} s; answers ${JSON.stringify(result.answers)}\n` +
      `sign-in idle p50 ${result.loginIdleMs.p50} ms (max ${result.loginIdleMs.max}); during the flood p50 ${result.loginDuringFloodMs.p50} ms, max ${result.loginDuringFloodMs.max} ms over ${during.length} sign-ins\n`,
  );
}

server.close();
server.closeAllConnections();
await gh.close();
await stores.close();
rmSync(dir, { recursive: true, force: true });
