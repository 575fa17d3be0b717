/**
 * Three Gatehouse processes behind nginx on one PostgreSQL and one Redis: sessions and tokens work
 * on every instance, revocations reach every instance (delay measured), a rolling restart loses no
 * session, a Redis outage answers 503 with Retry-After and heals by itself, and an instance whose
 * pub/sub link was cut misses no revocation made meanwhile.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  bearerHeaders,
  bedPrerequisites,
  cookieHeaders,
  http,
  json,
  percentile,
  startBed,
  StatusCounts,
  waitFor,
  writeResult,
  type Bed,
  type Identity,
  type Instance,
} from './bed.js';

const log = (line: string) => process.stdout.write(`# ${line}\n`);
const skip = await bedPrerequisites();
let bed: Bed;
let seq = 0;
const email = (tag: string) => `${tag}-${process.pid}-${++seq}@cluster.test`;

async function newIdentity(tag: string, via?: string): Promise<Identity> {
  const e = email(tag);
  await bed.register(e, via);
  return bed.signIn(e, via);
}

async function me(url: string, headers: Record<string, string>): Promise<number> {
  return (await http(`${url}/auth/me`, { headers, timeoutMs: 3000 })).status;
}

/** Polls `url` with tight bounded loops until the credential is refused; resolves ms or throws. */
async function untilRefused(url: string, headers: Record<string, string>, since: number, maxMs = 3000): Promise<number> {
  for (let n = 0; n < 5000; n++) {
    const s = await me(url, headers);
    if (s === 401) return performance.now() - since;
    if (s !== 200) throw new Error(`unexpected status ${s} from ${url} while waiting for a revocation`);
    if (performance.now() - since > maxMs) break;
  }
  throw new Error(`${url} still accepted a revoked credential ${maxMs} ms after the revocation`);
}

/**
 * Steady load through nginx: /auth/me alternately with a cookie and a bearer, one request every
 * `everyMs`, until stopped; bounded by `maxRequests` and `maxMs` either way.
 */
function steadyLoad(id: Identity, opts: { everyMs?: number; maxRequests?: number; maxMs?: number; timeoutMs?: number } = {}) {
  const counts = new StatusCounts();
  const problems: string[] = [];
  let stopped = false;
  let n = 0;
  const inflight = new Set<Promise<void>>();
  const deadline = performance.now() + (opts.maxMs ?? 120_000);
  const done = (async () => {
    while (!stopped && n < (opts.maxRequests ?? 10_000) && performance.now() < deadline) {
      const useCookie = n++ % 2 === 0;
      const p = http(`${bed.nginxUrl}/auth/me`, { headers: useCookie ? cookieHeaders(id) : bearerHeaders(id), timeoutMs: opts.timeoutMs ?? 5000 }).then((r) => {
        counts.add(r.status);
        if (r.status === 503 && !r.headers['retry-after']) problems.push('a 503 without Retry-After');
      });
      inflight.add(p);
      void p.finally(() => inflight.delete(p));
      await new Promise((r) => setTimeout(r, opts.everyMs ?? 20));
    }
    await Promise.all(inflight);
  })();
  return {
    counts,
    problems,
    async stop() {
      stopped = true;
      await done;
    },
  };
}

describe('Gatehouse behind nginx, three instances on shared PostgreSQL and Redis', { skip: skip ?? false, timeout: 600_000 }, () => {
  before(async () => {
    bed = await startBed({ log });
    log(`bed: nginx ${bed.nginxUrl}, instances ${bed.instances.map((i) => i.port).join(',')}, redis ${bed.redisPort}, schema ${bed.schema}`);
  });
  after(async () => {
    await bed?.stop();
  });

  test('a cookie and a bearer token issued through one instance are accepted by every instance, directly and through nginx', async () => {
    for (const issuer of bed.instances) {
      const id = await newIdentity('accept', issuer.url);
      for (const i of bed.instances) {
        assert.equal(await me(i.url, cookieHeaders(id)), 200, `cookie issued by ${issuer.name} on ${i.name}`);
        assert.equal(await me(i.url, bearerHeaders(id)), 200, `token issued by ${issuer.name} on ${i.name}`);
      }
      // Round robin: six requests through nginx reach each instance twice.
      for (let k = 0; k < 6; k++) {
        assert.equal(await me(bed.nginxUrl, cookieHeaders(id)), 200);
        assert.equal(await me(bed.nginxUrl, bearerHeaders(id)), 200);
      }
    }
  });

  test('a logout, a session revoke or logout-all on one instance makes the credential fail on every other instance (delay measured over 210 revocations)', async () => {
    const delays: number[] = [];
    const byKind: Record<string, number[]> = { logout: [], revoke: [], 'logout-all': [] };
    const users = { logout: email('rv-logout'), revoke: email('rv-revoke'), 'logout-all': email('rv-all') };
    for (const e of Object.values(users)) await bed.register(e, bed.instances[0]!.url);
    // The actor of DELETE /auth/sessions/:id: another session of the same user.
    const actor = await bed.signIn(users.revoke, bed.instances[0]!.url);
    const N = 210;
    const started = performance.now();
    for (let n = 0; n < N; n++) {
      assert.ok(performance.now() - started < 240_000, 'the revocation loop stays within its time bound');
      const issuer = bed.instances[n % 3]!;
      const others = bed.instances.filter((i) => i !== issuer);
      const kind = (['logout', 'revoke', 'logout-all'] as const)[Math.floor(n / 3) % 3]!;
      const cookieMode = n % 2 === 0;
      const login = await http(`${issuer.url}/auth/login`, { method: 'POST', body: { email: users[kind], password: 'cluster bed password 7f3a', ...(cookieMode ? {} : { mode: 'token' }) } });
      assert.equal(login.status, 200, login.body);
      const body = json<{ session: { id: string }; access_token?: string }>(login);
      const headers: Record<string, string> = cookieMode
        ? { cookie: ([] as string[]).concat(login.headers['set-cookie'] ?? []).find((c) => c.startsWith('__Host-gatehouse='))!.split(';')[0]! }
        : { authorization: `Bearer ${body.access_token}` };
      // Warm every other instance: each has now validated (and may cache) this credential.
      for (const o of others) assert.equal(await me(o.url, headers), 200, `fresh credential accepted on ${o.name}`);
      let r;
      if (kind === 'logout') r = await http(`${issuer.url}/auth/logout`, { method: 'POST', headers });
      else if (kind === 'revoke') r = await http(`${issuer.url}/auth/sessions/${body.session.id}`, { method: 'DELETE', headers: bearerHeaders(actor) });
      else r = await http(`${issuer.url}/auth/logout-all`, { method: 'POST', headers });
      assert.equal(r.status, 204, `${kind} on ${issuer.name}: ${r.body}`);
      const t0 = performance.now();
      const ms = await Promise.all(others.map((o) => untilRefused(o.url, headers, t0)));
      delays.push(...ms);
      byKind[kind]!.push(...ms);
    }
    assert.equal(await me(bed.instances[1]!.url, bearerHeaders(actor)), 200, 'revoking one session left the other session of the user alone');
    const sorted = [...delays].sort((a, b) => a - b);
    const round = (x: number) => Math.round(x * 100) / 100;
    const summary = {
      revocations: N,
      samples: sorted.length,
      p50_ms: round(percentile(sorted, 50)),
      p99_ms: round(percentile(sorted, 99)),
      max_ms: round(sorted[sorted.length - 1]!),
      by_kind: Object.fromEntries(Object.entries(byKind).map(([k, v]) => [k, { samples: v.length, p50_ms: round(percentile([...v].sort((a, b) => a - b), 50)), p99_ms: round(percentile([...v].sort((a, b) => a - b), 99)) }])),
      note: 'delay = time from the revoking response on one instance to the first 401 on each other instance (tight polling of GET /auth/me)',
      server: bed.command.slice(1).join(' '),
    };
    const path = writeResult('revocation.json', summary);
    log(`revocation delay over ${N} revocations (${sorted.length} samples): p50 ${summary.p50_ms} ms, p99 ${summary.p99_ms} ms, max ${summary.max_ms} ms → ${path}`);
    assert.ok(summary.p99_ms < 1000, `p99 revocation delay ${summary.p99_ms} ms is under 1 s`);
  });

  test('a user disabled with the CLI is refused at once on every instance, cookie and token alike', async () => {
    const id = await newIdentity('disable');
    for (const i of bed.instances) {
      assert.equal(await me(i.url, cookieHeaders(id)), 200);
      assert.equal(await me(i.url, bearerHeaders(id)), 200);
    }
    const r = await bed.cli(['user', 'disable', id.email]);
    assert.equal(r.code, 0, `gatehouse user disable: ${r.stderr}`);
    const t0 = performance.now();
    const ms = await Promise.all(bed.instances.flatMap((i) => [untilRefused(i.url, cookieHeaders(id), t0), untilRefused(i.url, bearerHeaders(id), t0)]));
    log(`user disable (CLI): refused on every instance within ${Math.round(Math.max(...ms))} ms of the command's exit`);
    const login = await http(`${bed.nginxUrl}/auth/login`, { method: 'POST', body: { email: id.email, password: 'cluster bed password 7f3a' } });
    assert.equal(login.status, 401, 'a disabled user cannot sign in again');
  });

  test('an instance whose pub/sub link is cut misses no revocation made meanwhile: it resynchronises on reconnect', async () => {
    const [a, b] = bed.instances as [Instance, Instance, Instance];
    const admin = bed.admin();
    const ids: Identity[] = [];
    for (let k = 0; k < 6; k++) ids.push(await newIdentity('cut', a.url));
    for (const id of ids) {
      assert.equal(await me(b.url, cookieHeaders(id)), 200);
      assert.equal(await me(b.url, bearerHeaders(id)), 200);
    }
    const pubsubOf = async (user: string) =>
      String(await admin.call('CLIENT', 'LIST', 'TYPE', 'pubsub'))
        .split('\n')
        .filter((l) => l.includes(` user=${user} `))
        .map((l) => /\bid=(\d+)/.exec(l)![1]!);
    const subs = await pubsubOf(b.redisUser);
    assert.ok(subs.length >= 1, `instance ${b.name} has a pub/sub connection`);
    // Cut: B's user may not log in again (its command connection stays up), and its subscriber is killed.
    await admin.call('ACL', 'SETUSER', b.redisUser, 'off');
    try {
      for (const idOf of subs) await admin.call('CLIENT', 'KILL', 'ID', idOf);
      assert.deepEqual(await pubsubOf(b.redisUser), [], 'the pub/sub link is cut');
      for (const id of ids) {
        assert.equal((await http(`${a.url}/auth/logout`, { method: 'POST', headers: cookieHeaders(id) })).status, 204);
        assert.equal((await http(`${a.url}/auth/logout`, { method: 'POST', headers: bearerHeaders(id) })).status, 204);
      }
      // While the feed is not trusted, B confirms every credential against the store: already refused.
      for (const id of ids) {
        assert.equal(await me(b.url, cookieHeaders(id)), 401, 'a revoked cookie is refused by the cut instance');
        assert.equal(await me(b.url, bearerHeaders(id)), 401, 'a revoked token is refused by the cut instance');
      }
      assert.deepEqual(await pubsubOf(b.redisUser), [], 'still cut after the revocations');
    } finally {
      await admin.call('ACL', 'SETUSER', b.redisUser, 'on');
    }
    const t0 = performance.now();
    await waitFor(`instance ${b.name} to resubscribe`, async () => (await pubsubOf(b.redisUser)).length >= 1, 10_000, 20);
    const reconnectMs = performance.now() - t0;
    // Once resubscribed (and replayed), the in-memory set carries every revocation made during the cut.
    for (let round = 0; round < 20; round++) {
      for (const id of ids) {
        assert.equal(await me(b.url, cookieHeaders(id)), 401, 'revoked cookie refused after reconnect');
        assert.equal(await me(b.url, bearerHeaders(id)), 401, 'revoked token refused after reconnect');
      }
    }
    // And a revocation after the reconnect arrives live again.
    const fresh = await newIdentity('cut-after', a.url);
    assert.equal(await me(b.url, bearerHeaders(fresh)), 200);
    assert.equal((await http(`${a.url}/auth/logout`, { method: 'POST', headers: bearerHeaders(fresh) })).status, 204);
    await untilRefused(b.url, bearerHeaders(fresh), performance.now(), 1000);
    log(`pub/sub cut: ${ids.length * 2} revocations made while cut, none missed; resubscribed ${Math.round(reconnectMs)} ms after the link was allowed back`);
  });

  test('a rolling restart under steady load through nginx loses no session and shows clients no 5xx', async () => {
    const id = await newIdentity('rolling');
    const load = steadyLoad(id, { everyMs: 20, maxRequests: 6000, maxMs: 120_000 });
    const steps: { instance: string; stopMs: number; startMs: number }[] = [];
    await new Promise((r) => setTimeout(r, 1000));
    for (const i of bed.instances) {
      const t0 = performance.now();
      await bed.stopInstance(i, 'SIGTERM');
      const t1 = performance.now();
      await bed.startInstance(i);
      steps.push({ instance: i.name, stopMs: Math.round(t1 - t0), startMs: Math.round(performance.now() - t1) });
      await new Promise((r) => setTimeout(r, 1000));
    }
    await load.stop();
    const result = { requests: load.counts.total(), statuses: load.counts.counts, steps, rate_per_s: 50 };
    const path = writeResult('rolling.json', result);
    log(`rolling restart: ${JSON.stringify(load.counts.counts)} over ${result.requests} requests → ${path}`);
    assert.ok(result.requests >= 200, 'the load ran throughout');
    assert.equal(load.counts.count((s) => s !== '200'), 0, `every request succeeded: ${JSON.stringify(load.counts.counts)}`);
    for (const i of bed.instances) {
      assert.equal(await me(i.url, cookieHeaders(id)), 200, `the same cookie works on restarted ${i.name}`);
      assert.equal(await me(i.url, bearerHeaders(id)), 200, `the same token works on restarted ${i.name}`);
    }
  });

  test('Redis killed and restarted under load: 503 with Retry-After meanwhile, never a 500 or a hang; sessions, users and audit survive', async () => {
    const id = await newIdentity('outage');
    const countRows = async () => ({
      users: (await bed.query<{ id: string }>('SELECT id FROM $schema.users ORDER BY id')).map((r) => r.id),
      audit: (await bed.query<{ id: string }>('SELECT id FROM $schema.audit_events ORDER BY id')).map((r) => r.id),
    });
    const rowsBefore = await countRows();
    const load = steadyLoad(id, { everyMs: 20, maxRequests: 6000, maxMs: 120_000, timeoutMs: 5000 });
    const direct = new StatusCounts();
    await new Promise((r) => setTimeout(r, 1000));
    const tKill = performance.now();
    await bed.killRedis();
    // While it is down, every instance answers quickly, directly as well as through nginx.
    let sawUnavailable = false;
    for (let k = 0; k < 8; k++) {
      for (const i of bed.instances) {
        const r = await http(`${i.url}/auth/me`, { headers: k % 2 ? bearerHeaders(id) : cookieHeaders(id), timeoutMs: 5000 });
        direct.add(r.status);
        if (r.status === 503) {
          sawUnavailable = true;
          assert.ok(r.headers['retry-after'], '503 carries Retry-After');
        }
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    const login = await http(`${bed.nginxUrl}/auth/login`, { method: 'POST', body: { email: id.email, password: 'cluster bed password 7f3a' }, timeoutMs: 5000 });
    direct.add(login.status);
    assert.equal(login.status, 503, 'a login while Redis is down is 503');
    assert.ok(login.headers['retry-after']);
    const downMs = performance.now() - tKill;
    await bed.startRedis();
    const tBack = performance.now();
    // Recovery by itself: the same cookie and token work on every instance without a new login.
    await waitFor('every instance to serve again', async () => {
      for (const i of bed.instances) {
        if ((await me(i.url, cookieHeaders(id))) !== 200) return false;
        if ((await me(i.url, bearerHeaders(id))) !== 200) return false;
      }
      return true;
    }, 20_000, 50);
    const recoveryMs = performance.now() - tBack;
    await new Promise((r) => setTimeout(r, 1000));
    await load.stop();
    const rowsAfter = await countRows();
    const result = {
      through_nginx: load.counts.counts,
      direct_while_down: direct.counts,
      redis_down_ms: Math.round(downMs),
      recovery_after_restart_ms: Math.round(recoveryMs),
      users: { before: rowsBefore.users.length, after: rowsAfter.users.length },
      audit: { before: rowsBefore.audit.length, after: rowsAfter.audit.length },
    };
    const path = writeResult('redis-outage.json', result);
    log(`Redis outage: nginx ${JSON.stringify(load.counts.counts)}, direct ${JSON.stringify(direct.counts)}, recovered ${Math.round(recoveryMs)} ms after restart → ${path}`);
    assert.ok(sawUnavailable, 'requests needing Redis were answered 503 while it was down');
    assert.deepEqual(load.problems, [], 'every 503 carried Retry-After');
    for (const c of [load.counts, direct]) {
      assert.equal(c.count((s) => s !== '200' && s !== '503'), 0, `only 200 and 503 seen: ${JSON.stringify(c.counts)}`);
    }
    assert.deepEqual(rowsAfter.users, rowsBefore.users, 'no user lost');
    const after = new Set(rowsAfter.audit);
    assert.ok(rowsBefore.audit.every((x) => after.has(x)), 'no audit event lost');
  });

  test('/readyz turns 503 on every instance while Redis is down (naming redis and the feed), 200 on every instance after', async () => {
    const readiness = async (url: string) => {
      const r = await http(`${url}/readyz`, { timeoutMs: 5000 });
      return { status: r.status, body: r.status === 200 || r.status === 503 ? json<{ checks: Record<string, { ok: boolean }> }>(r) : null };
    };
    for (const i of bed.instances) assert.equal((await readiness(i.url)).status, 200, `${i.name} ready before`);
    assert.equal((await readiness(bed.nginxUrl)).status, 200, 'through nginx (allowed from this host)');
    await bed.killRedis();
    try {
      await waitFor('every instance to answer /readyz 503', async () => {
        for (const i of bed.instances) if ((await readiness(i.url)).status !== 503) return false;
        return true;
      }, 20_000, 100);
      for (const i of bed.instances) {
        const r = await readiness(i.url);
        assert.equal(r.status, 503);
        assert.equal(r.body?.checks.redis?.ok, false, `${i.name}: the redis check fails`);
        assert.equal(r.body?.checks.database?.ok, true, `${i.name}: PostgreSQL still answers`);
      }
      // The processes are alive and answer (no hang, no reset) while not ready.
      for (const i of bed.instances) assert.ok([200, 503].includes((await http(`${i.url}/healthz`, { timeoutMs: 5000 })).status), `${i.name} answers /healthz`);
    } finally {
      await bed.startRedis();
    }
    await waitFor('every instance to answer /readyz 200 again', async () => {
      for (const i of bed.instances) if ((await readiness(i.url)).status !== 200) return false;
      return true;
    }, 30_000, 100);
    for (const i of bed.instances) {
      const r = await readiness(i.url);
      assert.deepEqual(Object.values(r.body!.checks).map((c) => c.ok), [true, true, true, true], `${i.name} every check ok`);
    }
  });
});
