/**
 * The login latency each way in adds, side by side with password-only sign-in, on one server.
 *
 * A Gatehouse node:http server with the shipped argon2id parameters (OWASP: m=19 MiB, t=2) on a
 * SQLite file (the embedded default), rate limits off. Each round signs in once with every method,
 * in turn, so that drift of the machine affects them alike; the figure is the wall time of the HTTP
 * requests a client makes for one sign-in (the authenticator's own work between them — the soft
 * authenticator's signature — is not counted). Median and p90 over `--rounds`.
 *
 *   node --import tsx bench/login-methods.ts [--rounds 40] [--json]
 *
 * - password:            POST /auth/login → 200
 * - password + TOTP:     POST /auth/login → 401 mfa_required, POST /auth/login/mfa {totp} → 200
 * - password + recovery: the same with a recovery code
 * - password + passkey:  POST /auth/login → 401 (with passkey options), POST /auth/login/mfa {webauthn} → 200
 * - passkey:             POST /auth/passkeys/login/options, POST /auth/passkeys/login → 200 (no password)
 */
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGatehouseNode } from '../src/http/node.js';
import { openStores } from '../src/stores/open.js';
import { TestClock } from '../test/support/clock.js';
import { SoftAuthenticator, totpCode } from '../test/support/webauthn.js';

const arg = (name: string, d: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : d;
};
const ROUNDS = Number(arg('rounds', '40'));
const PASSWORD = 'correct horse battery staple';
const SECRET = 'a bench secret of at least thirty-two characters';

const dir = mkdtempSync(join(tmpdir(), 'gh-bench-login-'));
const clock = new TestClock();
const stores = await openStores({ databaseUrl: `sqlite:${join(dir, 'gh.db')}` });
const port = await new Promise<number>((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const p = (s.address() as AddressInfo).port;
    s.close(() => resolve(p));
  });
});
const origin = `http://localhost:${port}`;
const gh = await createGatehouseNode({ stores, clock, config: { databaseUrl: 'sqlite::memory:', publicUrl: origin, secret: SECRET, rateLimits: { enabled: false }, logLevel: 'silent' } });
const server = createServer((req, res) => {
  if (!gh.handle(req, res)) res.writeHead(404).end();
});
await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
const base = `http://127.0.0.1:${port}`;

async function call(path: string, body: unknown, cookie?: string): Promise<{ status: number; json: any; cookie: string | undefined }> {
  const res = await fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) }, body: JSON.stringify(body) });
  const json = await res.json().catch(() => null);
  const set = res.headers.getSetCookie().find((c) => c.startsWith('__Host-gatehouse='));
  return { status: res.status, json, cookie: set?.split(';')[0] };
}

function expect(r: { status: number; json: any }, status: number, what: string): void {
  if (r.status !== status) throw new Error(`${what}: expected ${status}, got ${r.status} ${JSON.stringify(r.json)}`);
}

/** A user, signed in once by password (cookie) to set up its factors. */
async function user(name: string): Promise<{ email: string; cookie: string }> {
  const email = `${name}@bench.example`;
  expect(await call('/auth/register', { email, password: PASSWORD }), 201, 'register');
  const login = await call('/auth/login', { email, password: PASSWORD });
  expect(login, 200, 'login');
  return { email, cookie: login.cookie! };
}

const plain = await user('password');
const totpUser = await user('totp');
const begin = await call('/auth/mfa/totp', {}, totpUser.cookie);
const totpSecret = begin.json.secret as string;
expect(await call('/auth/mfa/totp/confirm', { code: totpCode(totpSecret, clock.now()) }, totpUser.cookie), 200, 'confirm');
const recUser = await user('recovery');
const beginRec = await call('/auth/mfa/totp', {}, recUser.cookie);
const confirmRec = await call('/auth/mfa/totp/confirm', { code: totpCode(beginRec.json.secret, clock.now()) }, recUser.cookie);
let recoveryCodes: string[] = confirmRec.json.recovery_codes;
let recCookie = recUser.cookie;
const pkUser = await user('passkey2fa');
const pk2 = new SoftAuthenticator(origin);
const regOpts = await call('/auth/passkeys/register/options', {}, pkUser.cookie);
expect(await call('/auth/passkeys/register', { response: pk2.create(regOpts.json) }, pkUser.cookie), 201, 'register passkey');
const pwless = await user('passwordless');
const pk = new SoftAuthenticator(origin);
const regOpts2 = await call('/auth/passkeys/register/options', {}, pwless.cookie);
expect(await call('/auth/passkeys/register', { response: pk.create(regOpts2.json) }, pwless.cookie), 201, 'register passkey');

type Method = { name: string; run(): Promise<number> };
const time = async (f: () => Promise<void>) => {
  const t0 = process.hrtime.bigint();
  await f();
  return Number(process.hrtime.bigint() - t0) / 1e6;
};

const methods: Method[] = [
  {
    name: 'password',
    run: () => time(async () => expect(await call('/auth/login', { email: plain.email, password: PASSWORD }), 200, 'password')),
  },
  {
    name: 'password + TOTP',
    async run() {
      clock.advance(30_000); // a new step for every sign-in (a code is accepted once)
      const code = totpCode(totpSecret, clock.now());
      return time(async () => {
        const step = await call('/auth/login', { email: totpUser.email, password: PASSWORD });
        expect(step, 401, 'mfa_required');
        expect(await call('/auth/login/mfa', { mfa_token: step.json.mfa_token, totp: code }), 200, 'totp');
      });
    },
  },
  {
    name: 'password + recovery code',
    async run() {
      if (recoveryCodes.length === 0) {
        // Outside the timing: a fresh set, from the newest session (signed in with a recovery code: aal2).
        recoveryCodes = (await call('/auth/mfa/recovery-codes', {}, recCookie)).json.recovery_codes;
      }
      const code = recoveryCodes.pop()!;
      return time(async () => {
        const step = await call('/auth/login', { email: recUser.email, password: PASSWORD });
        expect(step, 401, 'mfa_required');
        const done = await call('/auth/login/mfa', { mfa_token: step.json.mfa_token, recovery_code: code });
        expect(done, 200, 'recovery');
        recCookie = done.cookie!;
      });
    },
  },
  {
    name: 'password + passkey',
    async run() {
      let total = 0;
      const step = await (async () => {
        const t0 = process.hrtime.bigint();
        const s = await call('/auth/login', { email: pkUser.email, password: PASSWORD });
        total += Number(process.hrtime.bigint() - t0) / 1e6;
        return s;
      })();
      expect(step, 401, 'mfa_required');
      const assertion = pk2.get(step.json.webauthn); // the authenticator's work: not counted
      total += await time(async () => expect(await call('/auth/login/mfa', { mfa_token: step.json.mfa_token, webauthn: assertion }), 200, 'webauthn'));
      return total;
    },
  },
  {
    name: 'passkey (passwordless)',
    async run() {
      let total = 0;
      let opts: any;
      total += await time(async () => {
        opts = await call('/auth/passkeys/login/options', {});
      });
      const assertion = pk.get(opts.json);
      total += await time(async () => expect(await call('/auth/passkeys/login', { response: assertion }), 200, 'passkey login'));
      return total;
    },
  },
];

const samples = new Map<string, number[]>(methods.map((m) => [m.name, []]));
for (const m of methods) await m.run(); // warm-up
for (let i = 0; i < ROUNDS; i++) for (const m of methods) samples.get(m.name)!.push(await m.run());

const q = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * (s.length - 1) + 0.5))]!;
};
const pw = q(samples.get('password')!, 0.5);
const rows = methods.map((m) => {
  const xs = samples.get(m.name)!;
  const median = q(xs, 0.5);
  return { method: m.name, median_ms: +median.toFixed(1), p90_ms: +q(xs, 0.9).toFixed(1), added_ms: +(median - pw).toFixed(1), ratio: +(median / pw).toFixed(2) };
});

server.close();
await gh.close();
await stores.close();
rmSync(dir, { recursive: true, force: true });

const out = { date: new Date().toISOString(), node: process.version, rounds: ROUNDS, store: 'sqlite', argon2: 'm=19456 KiB, t=2, p=1', rows };
if (process.argv.includes('--json')) {
  console.log(JSON.stringify(out, null, 2));
} else {
  console.log(`login latency per method (median of ${ROUNDS} rounds, SQLite, argon2id m=19 MiB t=2)\n`);
  console.log('| method | median | p90 | added to password | × password |');
  console.log('| --- | ---: | ---: | ---: | ---: |');
  for (const r of rows) console.log(`| ${r.method} | ${r.median_ms} ms | ${r.p90_ms} ms | ${r.added_ms >= 0 ? '+' : ''}${r.added_ms} ms | ${r.ratio} |`);
}
mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
writeFileSync(join(import.meta.dirname, 'results', 'login-methods.json'), JSON.stringify(out, null, 2) + '\n');
