import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Cluster, Redis } from 'ioredis';
import { ConfigError, loadConfigFromEnv } from '../../src/config.js';
import { connect } from '../../src/stores/redis/client.js';
import { parseRedisUrl, RedisUrlError } from '../../src/stores/redis/url.js';

const refuses = (url: string, pattern: RegExp) => {
  assert.throws(() => parseRedisUrl(url), (e: unknown) => {
    assert.ok(e instanceof RedisUrlError, `a RedisUrlError for ${url}`);
    assert.match((e as Error).message, pattern);
    // The URL may carry a password: a message never repeats it.
    assert.doesNotMatch((e as Error).message, /s3cret/);
    return true;
  });
};

describe('Redis URLs: one server', () => {
  it('redis:// and rediss:// go to ioredis unchanged', () => {
    assert.deepEqual(parseRedisUrl('redis://u:p@cache:6380/2'), { kind: 'single', url: 'redis://u:p@cache:6380/2' });
    assert.deepEqual(parseRedisUrl('rediss://cache:6380'), { kind: 'single', url: 'rediss://cache:6380' });
  });

  it('an unknown scheme is refused, naming the forms', () => {
    refuses('http://s3cret@cache:6379', /unsupported Redis URL scheme "http:".*redis\+sentinel/);
    refuses('redis+replica://cache:6379', /unsupported Redis URL scheme "redis\+replica:"/);
    refuses('cache:6379', /must look like redis:\/\/host:6379/);
  });
});

describe('Redis URLs: Cluster', () => {
  it('keeps the user and password of every node, percent-decoded', () => {
    assert.deepEqual(parseRedisUrl('redis+cluster://gh:p%40ss%3Aw%2F+rd@10.0.0.1:7000,10.0.0.2:7001'), {
      kind: 'cluster',
      nodes: [{ host: '10.0.0.1', port: 7000 }, { host: '10.0.0.2', port: 7001 }],
      username: 'gh',
      password: 'p@ss:w/+rd',
      tls: false,
    });
  });

  it('a password alone (requirepass) has no user; no credentials is both null', () => {
    const a = parseRedisUrl('redis+cluster://:s3cret@a:7000');
    assert.equal(a.kind === 'cluster' && a.username, null);
    assert.equal(a.kind === 'cluster' && a.password, 's3cret');
    const b = parseRedisUrl('redis+cluster://a:7000');
    assert.deepEqual(b.kind === 'cluster' && [b.username, b.password], [null, null]);
  });

  it('rediss+cluster:// asks for TLS; ports default to 6379; IPv6 hosts in brackets', () => {
    assert.deepEqual(parseRedisUrl('rediss+cluster://u:s3cret@[::1]:7000,cache.internal'), {
      kind: 'cluster',
      nodes: [{ host: '::1', port: 7000 }, { host: 'cache.internal', port: 6379 }],
      username: 'u',
      password: 's3cret',
      tls: true,
    });
  });

  it('refuses a path, a query, an empty or malformed host list, and a bad percent-escape', () => {
    refuses('redis+cluster://u:s3cret@a:7000/1', /takes no path/);
    refuses('redis+cluster://u:s3cret@a:7000?x=1', /takes no query/);
    refuses('redis+cluster://u:s3cret@', /at least one host:port/);
    refuses('redis+cluster://a:7000,b:99999', /"b:99999" .* not a host:port/);
    refuses('redis+cluster://a:7000,,b:7001', /"" .* not a host:port/);
    refuses('redis+cluster://u:%E0%A4%A@a:7000', /password is not validly percent-encoded/);
  });
});

describe('Redis URLs: Sentinel', () => {
  it('names the Sentinels (default port 26379), the master group, the database and both sets of credentials', () => {
    assert.deepEqual(parseRedisUrl('redis+sentinel://gh:s3cret@s1:26379,s2:26380,s3/mymaster/3?sentinel_username=watch&sentinel_password=sp%2Bw+d'), {
      kind: 'sentinel',
      sentinels: [{ host: 's1', port: 26379 }, { host: 's2', port: 26380 }, { host: 's3', port: 26379 }],
      name: 'mymaster',
      db: 3,
      username: 'gh',
      password: 's3cret',
      sentinelUsername: 'watch',
      sentinelPassword: 'sp+w+d',
      tls: false,
    });
  });

  it('rediss+sentinel:// asks for TLS; without credentials everything is null and the database 0', () => {
    assert.deepEqual(parseRedisUrl('rediss+sentinel://s1,s2/cache-main'), {
      kind: 'sentinel',
      sentinels: [{ host: 's1', port: 26379 }, { host: 's2', port: 26379 }],
      name: 'cache-main',
      db: 0,
      username: null,
      password: null,
      sentinelUsername: null,
      sentinelPassword: null,
      tls: true,
    });
  });

  it('refuses a missing master name, a bad database, an unknown parameter and a fragment', () => {
    refuses('redis+sentinel://u:s3cret@s1:26379', /names the monitored master/);
    refuses('redis+sentinel://s1:26379/', /names the monitored master/);
    refuses('redis+sentinel://s1:26379/m/x', /database .* must be a number/);
    refuses('redis+sentinel://s1:26379/m/1/2', /names the monitored master/);
    refuses('redis+sentinel://s1/m?sentinel_pasword=s3cret', /unknown parameter "sentinel_pasword"/);
    refuses('redis+sentinel://s1/m#s3cret', /no #fragment/);
  });
});

describe('Redis URLs reach ioredis with their credentials and TLS', () => {
  it('a Cluster URL gives every node connection the user, the password and TLS', () => {
    const c = connect({ url: 'rediss+cluster://gh:p%40ss@127.0.0.1:1,127.0.0.1:2', tls: { rejectUnauthorized: true } }) as Cluster;
    try {
      const o = c.options.redisOptions!;
      assert.equal(o.username, 'gh');
      assert.equal(o.password, 'p@ss');
      assert.deepEqual(o.tls, { rejectUnauthorized: true });
      assert.deepEqual((c as unknown as { startupNodes: unknown[] }).startupNodes, [{ host: '127.0.0.1', port: 1 }, { host: '127.0.0.1', port: 2 }]);
    } finally {
      c.disconnect();
    }
  });

  it('a Sentinel URL gives the Sentinels their password and the master its own, with TLS to both', () => {
    const r = connect({ url: 'rediss+sentinel://gh:pw@127.0.0.1:1,127.0.0.1:2/mymaster/2?sentinel_password=spw' }) as Redis;
    try {
      const o = r.options;
      assert.deepEqual(o.sentinels, [{ host: '127.0.0.1', port: 1 }, { host: '127.0.0.1', port: 2 }]);
      assert.equal(o.name, 'mymaster');
      assert.equal(o.db, 2);
      assert.equal(o.username, 'gh');
      assert.equal(o.password, 'pw');
      assert.equal(o.sentinelPassword, 'spw');
      assert.equal(o.sentinelUsername, undefined);
      assert.equal(o.enableTLSForSentinelMode, true);
      assert.deepEqual(o.tls, {});
      assert.deepEqual(o.sentinelTLS, {});
    } finally {
      r.disconnect();
    }
  });
});

describe('Redis settings in the environment', () => {
  const env = (extra: Record<string, string>) => ({ GATEHOUSE_REDIS_URL: 'redis+sentinel://s1,s2/mymaster', ...extra });

  it('a malformed GATEHOUSE_REDIS_URL stops start-up with a message naming the variable and not the password', () => {
    assert.throws(() => loadConfigFromEnv({ GATEHOUSE_REDIS_URL: 'redis+sentinel://gh:s3cret@s1:26379' }), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.match(e.message, /GATEHOUSE_REDIS_URL \(redisUrl\): a redis\+sentinel:\/\/ URL names the monitored master/);
      assert.doesNotMatch(e.message, /s3cret/);
      return true;
    });
    assert.throws(() => loadConfigFromEnv({ GATEHOUSE_LEGACY_REDIS_URL: 'redis+cluster://a/1' }), /GATEHOUSE_LEGACY_REDIS_URL \(legacy\.redisUrl\): .*takes no path/);
  });

  it('GATEHOUSE_REDIS_WAIT_REPLICAS is auto by default, or a number from 0 to 16', () => {
    assert.equal(loadConfigFromEnv(env({})).redisWaitReplicas, 'auto');
    assert.equal(loadConfigFromEnv(env({ GATEHOUSE_REDIS_WAIT_REPLICAS: '0' })).redisWaitReplicas, 0);
    assert.equal(loadConfigFromEnv(env({ GATEHOUSE_REDIS_WAIT_REPLICAS: '2' })).redisWaitReplicas, 2);
    assert.equal(loadConfigFromEnv(env({ GATEHOUSE_REDIS_WAIT_REPLICAS: 'AUTO' })).redisWaitReplicas, 'auto');
    assert.throws(() => loadConfigFromEnv(env({ GATEHOUSE_REDIS_WAIT_REPLICAS: 'one' })), /GATEHOUSE_REDIS_WAIT_REPLICAS \(redisWaitReplicas\): must be auto or a number of replicas from 0 to 16/);
    assert.throws(() => loadConfigFromEnv(env({ GATEHOUSE_REDIS_WAIT_REPLICAS: '17' })), /GATEHOUSE_REDIS_WAIT_REPLICAS/);
    assert.equal(loadConfigFromEnv(env({})).redisWaitTimeout, 250);
  });

  it('a wait at or past the store timeout is refused with a number of replicas, naming both variables; with auto or off it is not', () => {
    assert.equal(loadConfigFromEnv(env({ GATEHOUSE_REDIS_WAIT_TIMEOUT: '2s', GATEHOUSE_STORE_TIMEOUT: '2s' })).redisWaitTimeout, 2000, 'auto: the stores cut it');
    assert.throws(
      () => loadConfigFromEnv(env({ GATEHOUSE_REDIS_WAIT_REPLICAS: '1', GATEHOUSE_REDIS_WAIT_TIMEOUT: '2s', GATEHOUSE_STORE_TIMEOUT: '2s' })),
      /GATEHOUSE_REDIS_WAIT_TIMEOUT \(redisWaitTimeout\): must be shorter than GATEHOUSE_STORE_TIMEOUT \(2000 ms\)/,
    );
    assert.equal(loadConfigFromEnv(env({ GATEHOUSE_REDIS_WAIT_TIMEOUT: '2s', GATEHOUSE_STORE_TIMEOUT: '2s', GATEHOUSE_REDIS_WAIT_REPLICAS: '0' })).redisWaitTimeout, 2000);
    assert.equal(loadConfigFromEnv({ GATEHOUSE_REDIS_WAIT_TIMEOUT: '2s', GATEHOUSE_STORE_TIMEOUT: '2s' }).redisWaitTimeout, 2000, 'no Redis, nothing to wait for');
  });
});
