import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CONFIG_DEFAULTS, ConfigError, ENV, OWASP_ARGON2, loadConfigFromEnv, parseDuration, resolveConfig } from '../../src/config.js';

describe('config defaults', () => {
  test('an empty environment gives a working config that needs no secret', () => {
    const c = loadConfigFromEnv({});
    assert.equal(c.port, 3000);
    assert.equal(c.databaseUrl, 'sqlite:./data/gatehouse.db');
    assert.equal(c.publicUrl, 'http://localhost:3000');
    assert.equal(c.secret, null);
    assert.equal(c.session.idleTtl, 30 * 60_000);
    assert.equal(c.session.absoluteTtl, 12 * 3_600_000);
    assert.equal(c.session.cookieName, '__Host-gatehouse');
    assert.equal(c.session.dataMaxBytes, 4096);
  });

  test('without GATEHOUSE_PUBLIC_URL the public URL follows PORT, so links and the issuer name the port in use', () => {
    assert.equal(loadConfigFromEnv({ PORT: '3900' }).publicUrl, 'http://localhost:3900');
    assert.equal(loadConfigFromEnv({ PORT: '3900', GATEHOUSE_PUBLIC_URL: 'https://auth.example.com/' }).publicUrl, 'https://auth.example.com');
    assert.equal(resolveConfig({ port: 8080 }).publicUrl, 'http://localhost:8080');
  });

  test('production password hashing defaults are the OWASP argon2id minimum: m=19456 KiB, t=2, p=1', () => {
    const c = loadConfigFromEnv({});
    assert.deepEqual(
      { memoryCost: c.passwordHashing.memoryCost, timeCost: c.passwordHashing.timeCost, parallelism: c.passwordHashing.parallelism },
      { memoryCost: 19456, timeCost: 2, parallelism: 1 },
    );
    assert.equal(c.passwordHashing.unsafeAllowWeak, false);
    assert.deepEqual({ ...OWASP_ARGON2 }, { memoryCost: 19456, timeCost: 2, parallelism: 1 });
  });

  test('every documented variable is prefixed GATEHOUSE_ (except PORT) and listed once', () => {
    const names = ENV.map((v) => v.name);
    assert.equal(new Set(names).size, names.length);
    for (const n of names) assert.ok(n === 'PORT' || n.startsWith('GATEHOUSE_'), n);
    for (const required of ['PORT', 'GATEHOUSE_DATABASE_URL', 'GATEHOUSE_PUBLIC_URL', 'GATEHOUSE_SESSION_IDLE_TTL', 'GATEHOUSE_SESSION_ABSOLUTE_TTL']) {
      assert.ok(names.includes(required), required);
    }
  });
});

describe('durations', () => {
  test('30m, 12h, 5s, 250ms and 30d parse to milliseconds', () => {
    assert.equal(parseDuration('30m'), 1_800_000);
    assert.equal(parseDuration('12h'), 43_200_000);
    assert.equal(parseDuration('5s'), 5000);
    assert.equal(parseDuration('250ms'), 250);
    assert.equal(parseDuration('30d'), 2_592_000_000);
    assert.equal(parseDuration(1500), 1500);
  });

  test('duration variables reach the config', () => {
    const c = loadConfigFromEnv({ GATEHOUSE_SESSION_IDLE_TTL: '5s', GATEHOUSE_SESSION_ABSOLUTE_TTL: '2h' });
    assert.equal(c.session.idleTtl, 5000);
    assert.equal(c.session.absoluteTtl, 7_200_000);
  });

  test('a malformed duration is rejected', () => {
    for (const bad of ['30', 'abc', '5 minutes', '-5s', '']) assert.throws(() => parseDuration(bad), /not a duration/, bad);
  });
});

describe('bad values stop start-up with a ConfigError naming the variable', () => {
  const cases: Array<[string, string]> = [
    ['GATEHOUSE_SESSION_IDLE_TTL', 'soon'],
    ['GATEHOUSE_SESSION_ABSOLUTE_TTL', '12 hours'],
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['GATEHOUSE_PUBLIC_URL', 'not a url'],
    ['GATEHOUSE_SECRET', 'short'],
    ['GATEHOUSE_LOG_LEVEL', 'loud'],
    ['GATEHOUSE_TOKEN_ALG', 'none'],
    ['GATEHOUSE_SESSION_SINGLE', 'maybe'],
    ['GATEHOUSE_SESSION_MAX_PER_USER', '0'],
    ['GATEHOUSE_PASSWORD_HASH_PARALLELISM', '99'],
  ];
  for (const [name, value] of cases) {
    test(`${name}=${JSON.stringify(value)}`, () => {
      assert.throws(
        () => loadConfigFromEnv({ [name]: value }),
        (e: unknown) => e instanceof ConfigError && e.message.includes(name),
      );
    });
  }

  test('an unknown option passed to the library is refused', () => {
    assert.throws(() => resolveConfig({ sesion: {} }), ConfigError);
  });
});

describe('weak password hashing', () => {
  test('parameters below the OWASP minimum are refused without the unsafe flag, naming the flag', () => {
    assert.throws(
      () => loadConfigFromEnv({ GATEHOUSE_PASSWORD_HASH_MEMORY: '1024', GATEHOUSE_PASSWORD_HASH_TIME: '1' }),
      (e: unknown) => e instanceof ConfigError && e.message.includes('GATEHOUSE_UNSAFE_WEAK_PASSWORD_HASHING'),
    );
    assert.throws(() => resolveConfig({ passwordHashing: { memoryCost: 19456, timeCost: 1 } }), ConfigError);
  });

  test('the unsafe flag allows them (for test suites)', () => {
    const c = loadConfigFromEnv({ GATEHOUSE_PASSWORD_HASH_MEMORY: '1024', GATEHOUSE_PASSWORD_HASH_TIME: '1', GATEHOUSE_UNSAFE_WEAK_PASSWORD_HASHING: 'true' });
    assert.equal(c.passwordHashing.memoryCost, 1024);
    assert.equal(c.passwordHashing.unsafeAllowWeak, true);
  });

  test('stronger than the minimum is always allowed', () => {
    assert.equal(loadConfigFromEnv({ GATEHOUSE_PASSWORD_HASH_MEMORY: '65536', GATEHOUSE_PASSWORD_HASH_TIME: '3' }).passwordHashing.memoryCost, 65536);
  });
});

describe('configuration docs', () => {
  test('docs/config.md and the README table are generated from ENV and up to date (regenerate: node --import tsx scripts/gen-config-docs.ts)', async () => {
    const { readFileSync } = await import('node:fs');
    const gen = await import('../../scripts/gen-config-docs.js');
    assert.equal(readFileSync(gen.CONFIG_DOC, 'utf8'), gen.renderConfigDoc(), 'docs/config.md is stale');
    const readme = readFileSync(gen.README, 'utf8');
    assert.equal(readme, gen.renderReadme(readme), 'the README configuration table is stale');
    for (const v of ENV) assert.ok(readme.includes(`| \`${v.name}\` |`), `README documents ${v.name}`);
  });

  test('the docs show defaults in the units people write them in', async () => {
    const gen = await import('../../scripts/gen-config-docs.js');
    const table = gen.renderConfigTable();
    assert.match(table, /\| `GATEHOUSE_SESSION_IDLE_TTL` \| duration \| `30m` \|/);
    assert.match(table, /\| `GATEHOUSE_SESSION_ABSOLUTE_TTL` \| duration \| `12h` \|/);
    assert.match(table, /\| `GATEHOUSE_PASSWORD_HASH_MEMORY` \| integer \| `19456` \|/);
  });
});

describe('the renewal interval against the idle lifetimes', () => {
  test('unset, it follows a short idle lifetime down to a tenth of it (env and library alike)', () => {
    assert.equal(loadConfigFromEnv({ GATEHOUSE_SESSION_IDLE_TTL: '4s' }).session.renewInterval, 400);
    assert.equal(resolveConfig({ session: { idleTtl: '4s' } }).session.renewInterval, 400);
    assert.equal(resolveConfig({ token: { refreshIdleTtl: '2m' } }).session.renewInterval, 12_000);
    assert.equal(resolveConfig({}).session.renewInterval, 60_000, 'the default stays 1 minute for the default 30-minute idle lifetime');
    assert.equal(resolveConfig({ session: { idleTtl: '5m' } }).session.renewInterval, 30_000);
  });

  test('set above half of an idle lifetime, start-up is refused naming both variables', () => {
    assert.throws(
      () => loadConfigFromEnv({ GATEHOUSE_SESSION_IDLE_TTL: '4s', GATEHOUSE_SESSION_RENEW_INTERVAL: '1m' }),
      (e: unknown) => e instanceof ConfigError && /GATEHOUSE_SESSION_RENEW_INTERVAL/.test(e.message) && /GATEHOUSE_SESSION_IDLE_TTL/.test(e.message) && /1m/.test(e.message) && /4s/.test(e.message),
    );
    assert.throws(() => resolveConfig({ session: { idleTtl: '4s', renewInterval: '4s' } }), /session\.renewInterval.*session\.idleTtl/s);
    assert.throws(() => resolveConfig({ session: { renewInterval: '10m' }, token: { refreshIdleTtl: '15m' } }), /GATEHOUSE_REFRESH_IDLE_TTL/);
    // At most half is accepted as given.
    assert.equal(resolveConfig({ session: { idleTtl: '4s', renewInterval: '2s' } }).session.renewInterval, 2000);
    assert.equal(resolveConfig({ session: { idleTtl: '4s', renewInterval: 0 } }).session.renewInterval, 0);
  });
});

describe('configuration stated once', () => {
  const valueAt = (o: unknown, path: readonly string[]) => path.reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], o);

  test('every variable names a setting of the schema, and its kind matches the default the schema gives', () => {
    const defaults = resolveConfig({});
    for (const v of ENV) {
      const parent = valueAt(defaults, v.path.slice(0, -1)) as Record<string, unknown> | undefined;
      assert.ok(parent && Object.hasOwn(parent, v.path.at(-1)!), `${v.name}: ${v.path.join('.')} is not a setting`);
      const d = valueAt(defaults, v.path);
      const expected: Record<string, (x: unknown) => boolean> = {
        int: (x) => typeof x === 'number' && Number.isInteger(x),
        'nullable-int': (x) => x === null || (typeof x === 'number' && Number.isInteger(x)),
        duration: (x) => typeof x === 'number',
        bool: (x) => typeof x === 'boolean',
        list: (x) => Array.isArray(x),
        json: (x) => Array.isArray(x),
        'nullable-string': (x) => x === null || typeof x === 'string',
        string: (x) => typeof x === 'string' || (v.name === 'GATEHOUSE_TRUST_PROXY' && typeof x === 'boolean') || (typeof x === 'number' && v.name.endsWith('WAIT_REPLICAS')),
      };
      assert.ok(expected[v.kind]!(d), `${v.name}: kind ${v.kind} but the default is ${JSON.stringify(d)}`);
    }
  });

  test('no variable repeats its default in prose: the generated table shows it from the schema', () => {
    for (const v of ENV) assert.doesNotMatch(v.doc, /\bDefault(s)? (is |on|off|`|[0-9])/, `${v.name}: ${v.doc}`);
  });

  test('store openers take their defaults from the schema', async () => {
    const { readFileSync } = await import('node:fs');
    for (const f of ['src/stores/open.ts', 'src/stores/postgres/index.ts', 'src/stores/redis/index.ts', 'src/stores/redis/client.ts', 'src/stores/mysql/index.ts']) {
      const src = readFileSync(new URL(`../../${f}`, import.meta.url), 'utf8');
      assert.doesNotMatch(src, /\?\? (2000|5000|'gatehouse'|'gh:')\b/, `${f} repeats a default`);
    }
    assert.equal(CONFIG_DEFAULTS.storeTimeout, resolveConfig({}).storeTimeout);
  });
});
