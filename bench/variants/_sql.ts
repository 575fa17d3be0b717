// Where the SQL-backed variants keep their data, shared with the harness's bytes-on-disk counter:
// every name derives from the server start's run id (VariantContext.runId / $BENCH_RUN_ID).
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A run id as an identifier fit for a Postgres schema, a MySQL database or a directory name. */
export function runNameOf(runId: string): string {
  return runId.toLowerCase().replace(/[^a-z0-9]+/g, '_').slice(0, 40);
}

/** The SQLite file of a server start (its directory is removed when the server stops). */
export function sqliteDir(runId: string): string {
  return join(tmpdir(), `gh-bench-${runNameOf(runId)}`);
}

export function postgresUrl(): string {
  return process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
}

export function postgresSchema(runId: string): string {
  return `bench_${runNameOf(runId)}`;
}

/** A MariaDB/MySQL account that may create and drop databases (the variant creates its own). */
export function mysqlUrl(): string {
  return process.env.BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';
}

export function mysqlDatabase(runId: string): string {
  return `bench_${runNameOf(runId)}`;
}

export function mysqlDatabaseUrl(runId: string): string {
  const u = new URL(mysqlUrl());
  u.pathname = `/${mysqlDatabase(runId)}`;
  return u.toString();
}
