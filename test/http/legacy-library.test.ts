/**
 * Migration as a library option: an application's own routes behind `authenticate(req, res)` take
 * over a user from an old connect-redis session, with the application's own user mapping.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { createGatehouseNode, type GatehouseNode } from '../../src/http/node.js';
import { ConnectRedisSource } from '../../src/stores/legacy/index.js';
import { createMemoryStores } from '../../src/stores/memory/index.js';
import { deletePrefix, requireRedis, skipReason, REDIS_URL, testPrefix } from '../support/services.js';

const signature = createRequire(import.meta.url)('cookie-signature') as { sign(value: string, secret: string): string };
const SECRET = 'the old application secret';
const redisUrl = await requireRedis();

describe('migration through the library option', { skip: redisUrl ? false : skipReason('Redis', REDIS_URL) }, () => {
  const prefix = `${testPrefix()}sess:`;
  let redis: Redis;
  let gh: GatehouseNode;
  let server: Server;
  let source: ConnectRedisSource;
  let url: string;
  const seen: Record<string, unknown>[] = [];

  before(async () => {
    redis = new Redis(redisUrl!);
    const stores = createMemoryStores();
    await stores.users.createUser({ id: 'gh-user-7', email: 'seven@example.com', emailCanonical: 'seven@example.com', passwordHash: 'x', createdAt: Date.now(), disabledAt: null, emailVerifiedAt: null, credentialVersion: 0, admin: false });
    gh = await createGatehouseNode({
      stores,
      config: { databaseUrl: 'memory:', rateLimits: { enabled: false }, passwordHashing: { memoryCost: 1024, timeCost: 1, parallelism: 1, unsafeAllowWeak: true } },
      legacy: {
        source: (source = new ConnectRedisSource(new Redis(redisUrl!), { prefix })),
        secrets: [SECRET],
        cookieName: 'app.sid',
        // The old app kept a numeric account id; the application knows which Gatehouse user that is.
        mapUser: async (old) => {
          seen.push(old);
          return old.accountId === 7 ? 'gh-user-7' : null;
        },
      },
    });
    server = createServer(async (req, res) => {
      if (gh.handle(req, res)) return;
      const auth = await gh.authenticate(req, res);
      if (!auth) return gh.reject(req, res);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ id: auth.user.id }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    server.close();
    server.closeAllConnections();
    await gh.close();
    await source.close(); // an application's own source is its to close
    await deletePrefix(redis as never, prefix.replace(/sess:$/, ''));
    await redis.quit();
  });

  const oldSession = async (sid: string, accountId: number) => {
    const expires = new Date(Date.now() + 3_600_000).toISOString();
    await redis.set(prefix + sid, JSON.stringify({ cookie: { originalMaxAge: 3_600_000, expires, httpOnly: true, path: '/' }, accountId }), 'PX', 3_600_000);
    return `app.sid=${encodeURIComponent(`s:${signature.sign(sid, SECRET)}`)}`;
  };

  test("an application route authenticates an old session's user and hands out the Gatehouse cookie", async () => {
    const cookie = await oldSession('sid-seven', 7);
    const r = await fetch(`${url}/api/profile`, { headers: { cookie } });
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { id: 'gh-user-7' });
    const set = r.headers.getSetCookie();
    assert.ok(set.some((c) => c.startsWith('__Host-gatehouse=')));
    assert.ok(set.some((c) => /^app\.sid=; Path=\/; Max-Age=0/.test(c)), 'the old cookie, under its configured name, is cleared');
    assert.equal(seen.at(-1)?.accountId, 7, 'the mapping saw the old session data');
    const gatehouse = set.find((c) => c.startsWith('__Host-gatehouse='))!.split(';')[0]!;
    const again = await fetch(`${url}/auth/me`, { headers: { cookie: gatehouse } });
    assert.equal(again.status, 200);
    await again.body?.cancel();
  });

  test('an old session the mapping does not recognise is no credential and stays in place', async () => {
    const cookie = await oldSession('sid-unknown', 99);
    const r = await fetch(`${url}/api/profile`, { headers: { cookie } });
    assert.equal(r.status, 401);
    await r.body?.cancel();
    assert.ok((await redis.get(`${prefix}sid-unknown`))?.includes('"accountId":99'));
  });
});
