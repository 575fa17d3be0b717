/**
 * The migration example: a browser signed in on the express-session app stays signed in when the
 * same port switches to the Gatehouse version of the app.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Redis } from 'ioredis';
import { startNew } from '../../examples/express-session-migration/new-app.js';
import { ACCOUNTS, startOld } from '../../examples/express-session-migration/old-app.js';
import { Client, CHEAP_HASHING } from '../support/server.js';
import { deletePrefix, requireRedis, skipReason, REDIS_URL, testPrefix } from '../support/services.js';

const redisUrl = await requireRedis();
const base = testPrefix();

after(async () => {
  if (!redisUrl) return;
  const redis = new Redis(redisUrl);
  await deletePrefix(redis as never, base);
  await redis.quit();
});

test('the example app keeps a signed-in browser signed in across the switch to Gatehouse', { skip: redisUrl ? false : skipReason('Redis', REDIS_URL) }, async () => {
  const prefix = `${base}sess:`;
  const secret = 'the example secret';
  const old = await startOld(0, { redisUrl: redisUrl!, prefix, secret });
  const port = Number(new URL(old.url).port);
  const browser = new Client(old.url);
  const [email, password] = Object.entries(ACCOUNTS)[0]!;
  const login = await browser.req('POST', '/login', { body: new URLSearchParams({ email, password }).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  assert.equal(login.status, 303);
  assert.deepEqual((await browser.req('GET', '/profile')).body, { email, via: 'express-session' });
  await old.close();

  const next = await startNew(port, { redisUrl: redisUrl!, prefix, secrets: [secret], gatehouse: { config: { passwordHashing: CHEAP_HASHING, rateLimits: { enabled: false } } } });
  try {
    assert.equal(await next.remaining(), 1);
    assert.deepEqual((await browser.req('GET', '/profile')).body, { email, via: 'gatehouse' });
    assert.ok(browser.jar.has('__Host-gatehouse'));
    assert.equal(browser.jar.has('connect.sid'), false);
    assert.deepEqual((await browser.req('GET', '/profile')).body, { email, via: 'gatehouse' });
    assert.equal(await next.remaining(), 0);
  } finally {
    await next.close();
  }
});
