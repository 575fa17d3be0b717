/**
 * The stores an HTTP test can run against, each as a fresh, empty bundle: memory, SQLite (a temporary
 * file), PostgreSQL (a schema of its own), PostgreSQL + Redis (a key prefix of its own), MySQL on
 * MariaDB (a database of its own) and MariaDB + Redis. A store
 * whose service is unreachable gives a skip reason outside CI and fails under CI=true (services.ts).
 *
 *   for (const kind of await storeKinds()) describe(kind.name, { skip: kind.skip }, () => { … kind.open() … });
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Stores } from '../../src/ports.js';
import { openStores } from '../../src/stores/open.js';
import {
  createTestDatabase, deletePrefix, dropDatabase, dropSchema, MYSQL_URL, POSTGRES_URL, REDIS_URL, requireMysql, requirePostgres,
  requireRedis, skipReason, testPrefix, testSchema,
} from './services.js';

export interface OpenedStores {
  stores: Stores;
  /** Closes the stores and removes what they created. */
  cleanup(): Promise<void>;
}

export interface StoreKind {
  name: 'memory' | 'sqlite' | 'postgres' | 'postgres+redis' | 'mysql' | 'mysql+redis';
  /** Why this kind cannot run here (outside CI only), or undefined. */
  skip: string | undefined;
  open(): Promise<OpenedStores>;
}

export async function storeKinds(): Promise<StoreKind[]> {
  const pg = await requirePostgres();
  const redis = await requireRedis();
  const my = await requireMysql();
  const pgSkip = pg === null ? skipReason('PostgreSQL', POSTGRES_URL) : undefined;
  const redisSkip = pgSkip ?? (redis === null ? skipReason('Redis', REDIS_URL) : undefined);
  const mySkip = my === null ? skipReason('MariaDB', MYSQL_URL) : undefined;
  const myRedisSkip = mySkip ?? (redis === null ? skipReason('Redis', REDIS_URL) : undefined);
  const clearPrefix = async (prefix: string) => {
    const { Redis } = await import('ioredis');
    const r = new Redis(redis!);
    try {
      await deletePrefix(r as never, prefix);
    } finally {
      r.disconnect();
    }
  };
  return [
    {
      name: 'memory',
      skip: undefined,
      async open() {
        const stores = await openStores({ databaseUrl: 'memory:' });
        return { stores, cleanup: () => stores.close() };
      },
    },
    {
      name: 'sqlite',
      skip: undefined,
      async open() {
        const dir = mkdtempSync(join(tmpdir(), 'gh-matrix-'));
        const stores = await openStores({ databaseUrl: `sqlite:${join(dir, 'gatehouse.db')}` });
        return {
          stores,
          async cleanup() {
            await stores.close();
            rmSync(dir, { recursive: true, force: true });
          },
        };
      },
    },
    {
      name: 'postgres',
      skip: pgSkip,
      async open() {
        const schema = testSchema();
        const stores = await openStores({ databaseUrl: pg!, schema, timeoutMs: 5000 });
        return {
          stores,
          async cleanup() {
            await stores.close();
            await dropSchema(pg!, schema);
          },
        };
      },
    },
    {
      name: 'postgres+redis',
      skip: redisSkip,
      async open() {
        const schema = testSchema();
        const prefix = testPrefix();
        const stores = await openStores({ databaseUrl: pg!, redisUrl: redis!, schema, redisPrefix: prefix, timeoutMs: 5000 });
        return {
          stores,
          async cleanup() {
            await stores.close();
            await dropSchema(pg!, schema);
            await clearPrefix(prefix);
          },
        };
      },
    },
    {
      name: 'mysql',
      skip: mySkip,
      async open() {
        const { url, database } = await createTestDatabase(my!);
        const stores = await openStores({ databaseUrl: url, timeoutMs: 5000 });
        return {
          stores,
          async cleanup() {
            await stores.close();
            await dropDatabase(my!, database);
          },
        };
      },
    },
    {
      name: 'mysql+redis',
      skip: myRedisSkip,
      async open() {
        const { url, database } = await createTestDatabase(my!);
        const prefix = testPrefix();
        const stores = await openStores({ databaseUrl: url, redisUrl: redis!, redisPrefix: prefix, timeoutMs: 5000 });
        return {
          stores,
          async cleanup() {
            await stores.close();
            await dropDatabase(my!, database);
            await clearPrefix(prefix);
          },
        };
      },
    },
  ];
}
