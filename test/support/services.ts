/**
 * External services for tests. `requirePostgres()` / `requireRedis()` / `requireMysql()` resolve a URL
 * when the service answers; otherwise, under CI=true, they throw naming what is missing and how to
 * start it, and outside CI they resolve null so the caller can skip with a reason.
 */
import { randomBytes } from 'node:crypto';
import { createConnection } from 'node:net';
import mysql from 'mysql2/promise';
import pg from 'pg';

export const POSTGRES_URL = process.env.GATEHOUSE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.GATEHOUSE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
/** A MariaDB (or MySQL) account that may create and drop databases; tests never use the URL's own database. */
export const MYSQL_URL = process.env.GATEHOUSE_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';

const START_PG = 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start';
const START_REDIS =
  'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log';

const START_MARIADB =
  'start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd (then wait for mariadb-admin -h 127.0.0.1 ping)';

const inCI = () => process.env.CI === 'true';

function missing(what: string, where: string, start: string, cause: unknown): null {
  if (inCI()) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new Error(`${what} is required under CI=true but is not reachable at ${where} (${reason}). Start it with: ${start}`);
  }
  return null;
}

export function skipReason(what: string, url: string): string {
  return `${what} not reachable at ${url.replace(/\/\/[^@/]*@/, '//')} (set CI=true to make this a failure)`;
}

let pgProbe: Promise<string | null> | undefined;
export function requirePostgres(): Promise<string | null> {
  pgProbe ??= (async () => {
    const c = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 2000 });
    c.on('error', () => {});
    try {
      await c.connect();
      await c.query('SELECT 1');
      return POSTGRES_URL;
    } catch (e) {
      return missing('PostgreSQL', POSTGRES_URL, START_PG, e);
    } finally {
      await c.end().catch(() => {});
    }
  })();
  return pgProbe;
}

let redisProbe: Promise<string | null> | undefined;
export function requireRedis(): Promise<string | null> {
  redisProbe ??= (async () => {
    const u = new URL(REDIS_URL);
    try {
      await pingRedis(u.hostname, Number(u.port || 6379));
      return REDIS_URL;
    } catch (e) {
      return missing('Redis', REDIS_URL, START_REDIS, e);
    }
  })();
  return redisProbe;
}

let mysqlProbe: Promise<string | null> | undefined;
export function requireMysql(): Promise<string | null> {
  mysqlProbe ??= (async () => {
    let c: mysql.Connection | null = null;
    try {
      c = await mysql.createConnection({ uri: MYSQL_URL, connectTimeout: 2000 });
      await c.query('SELECT 1');
      return MYSQL_URL;
    } catch (e) {
      return missing('MariaDB', MYSQL_URL, START_MARIADB, e);
    } finally {
      await c?.end().catch(() => {});
    }
  })();
  return mysqlProbe;
}

/** A MySQL database name of our own for one run (or one test): `gh_test_<random>`. */
export function testDatabase(): string {
  return `gh_test_${randomBytes(6).toString('hex')}`;
}

/** `url` with its database replaced by `database`. */
export function mysqlUrlFor(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** Creates a database of our own on the server `url` points at, and resolves its URL. */
export async function createTestDatabase(url: string, database = testDatabase()): Promise<{ url: string; database: string }> {
  if (!/^gh_test_[0-9a-f]+$/.test(database)) throw new Error(`refusing to create ${database}`);
  const c = await mysql.createConnection({ uri: url, connectTimeout: 2000 });
  try {
    await c.query(`CREATE DATABASE \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin`);
  } finally {
    await c.end().catch(() => {});
  }
  return { url: mysqlUrlFor(url, database), database };
}

/** Drops a database created by a test, with everything in it (never anyone else's: the name is checked). */
export async function dropDatabase(url: string, database: string): Promise<void> {
  if (!/^gh_test_[0-9a-f]+$/.test(database)) throw new Error(`refusing to drop ${database}`);
  const c = await mysql.createConnection({ uri: url, connectTimeout: 2000 });
  try {
    await c.query(`DROP DATABASE IF EXISTS \`${database}\``);
  } finally {
    await c.end().catch(() => {});
  }
}

/** A raw PING over TCP, so the probe needs no client library and cannot hang (2 s). */
export function pingRedis(host: string, port: number, timeoutMs = 2000): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = createConnection({ host, port });
    const t = setTimeout(() => {
      s.destroy();
      reject(new Error('timed out'));
    }, timeoutMs);
    s.on('connect', () => s.write('PING\r\n'));
    s.on('data', (d) => {
      clearTimeout(t);
      s.destroy();
      if (d.toString().startsWith('+PONG')) resolve();
      else reject(new Error(`unexpected reply ${JSON.stringify(d.toString().slice(0, 40))}`));
    });
    s.on('error', (e) => {
      clearTimeout(t);
      reject(e);
    });
  });
}

/** A schema name of our own for one run (or one test): `gh_test_<random>`. */
export function testSchema(): string {
  return `gh_test_${randomBytes(6).toString('hex')}`;
}

/** Drops a schema created by a test, with everything in it. */
export async function dropSchema(url: string, schema: string): Promise<void> {
  if (!/^gh_test_[0-9a-f]+$/.test(schema)) throw new Error(`refusing to drop ${schema}`);
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  c.on('error', () => {});
  try {
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await c.end().catch(() => {});
  }
}

/** A Redis key prefix of our own for one run (or one test). */
export function testPrefix(): string {
  return `ghtest:${randomBytes(6).toString('hex')}:`;
}

/** Deletes every key under a test prefix (SCAN, never KEYS). */
export async function deletePrefix(redis: { scan(...args: (string | number)[]): Promise<[string, string[]]>; del(...k: string[]): Promise<number> }, prefix: string): Promise<void> {
  if (!prefix.startsWith('ghtest:')) throw new Error(`refusing to delete ${prefix}*`);
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    if (found.length) for (const k of found) await redis.del(k);
    cursor = next;
  } while (cursor !== '0');
}
