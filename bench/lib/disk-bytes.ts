/**
 * Bytes per session on disk for the SQL stores: the pages the `sessions` table and its indexes
 * (and the separate `session_data` table, where a store has one) occupy, before and after `count`
 * logins, divided by `count`. Pages, not row lengths: what a session costs is where the B-trees put
 * it, partly filled pages included. Each store counts its own way, read-only:
 * - SQLite: `dbstat` (pages of each b-tree, through the WAL);
 * - PostgreSQL: `pg_total_relation_size` (heap, indexes, TOAST);
 * - InnoDB: the pages of every index of the tables (`information_schema.INNODB_BUFFER_PAGE`), not the
 *   reserved extents of the tablespace file, which grows a megabyte at a time.
 */
import Database from 'better-sqlite3';
import mysql from 'mysql2/promise';
import pg from 'pg';
import type { Metrics, VariantContext } from './types.js';

export interface DiskBytesOptions {
  count: number;
  login(ctx: VariantContext, seq: number): Promise<void>;
  /** Bytes the session tables occupy now. */
  measure(): Promise<number>;
}

export async function diskBytesPerSession(ctx: VariantContext, opts: DiskBytesOptions): Promise<Metrics> {
  const before = await opts.measure();
  const parallel = 8;
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < opts.count) await opts.login(ctx, next++);
    }),
  );
  const after = await opts.measure();
  return { diskBytesPerSession: Math.round((after - before) / opts.count) };
}

export function sqliteSessionBytes(path: string): () => Promise<number> {
  return async () => {
    const db = new Database(path, { readonly: true, fileMustExist: true });
    try {
      const r = db
        .prepare(
          `SELECT coalesce(sum(pgsize), 0) AS bytes FROM dbstat
            WHERE name IN ('sessions', 'session_data') OR name IN (SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name IN ('sessions', 'session_data'))`,
        )
        .get() as { bytes: number };
      return r.bytes;
    } finally {
      db.close();
    }
  };
}

export function postgresSessionBytes(url: string, schema: string): () => Promise<number> {
  return async () => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      const r = await c.query<{ bytes: string }>(`SELECT pg_total_relation_size(format('%I.sessions', $1::text)) AS bytes`, [schema]);
      return Number(r.rows[0]!.bytes);
    } finally {
      await c.end();
    }
  };
}

export function mysqlSessionBytes(url: string, database: string): () => Promise<number> {
  return async () => {
    const c = await mysql.createConnection({ uri: url });
    try {
      // Every page of these small, just-written tables is in the buffer pool; the statistics tables
      // would report reserved extents (a megabyte at a time) instead of pages.
      const [rows] = await c.query<mysql.RowDataPacket[]>(
        `SELECT count(*) * @@innodb_page_size AS bytes FROM information_schema.INNODB_BUFFER_PAGE WHERE table_name IN (?, ?)`,
        [`\`${database}\`.\`sessions\``, `\`${database}\`.\`session_data\``],
      );
      return Number(rows[0]!.bytes);
    } finally {
      await c.end();
    }
  };
}
