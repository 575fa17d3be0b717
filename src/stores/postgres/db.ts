import pg from 'pg';
import { StoreUnavailableError } from '../../errors.js';

/** SQLSTATE classes and codes that mean "the database is not there right now", not "your query is wrong". */
const UNAVAILABLE_CODES = new Set([
  '57014', // query_canceled (statement_timeout)
  '57P01', // admin_shutdown (pg_terminate_backend, server stop)
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up)
  '53300', // too_many_connections
  '40P01', // deadlock_detected: transient, the caller may retry
]);

export function isUnavailable(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (UNAVAILABLE_CODES.has(code) || code.startsWith('08')) return true;
    if (/^E[A-Z]+$/.test(code)) return true; // ECONNREFUSED, ECONNRESET, ETIMEDOUT, EPIPE, ...
  }
  return /timeout|terminated|Connection ended|not queryable|ECONNREFUSED|ECONNRESET/i.test(e.message);
}

export function wrapError(e: unknown): unknown {
  return isUnavailable(e) ? new StoreUnavailableError('postgres', e) : e;
}

export type Row = Record<string, unknown>;

export interface Queryable {
  query<R extends Row = Row>(text: string, params?: unknown[]): Promise<{ rows: R[]; rowCount: number }>;
}

/** int8 columns hold epoch milliseconds, which are exact as JS numbers; parse them as numbers for this pool only. */
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === 20) return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

export const SCHEMA_RE = /^[a-z_][a-z0-9_]{0,47}$/;

export interface DbOptions {
  url: string;
  schema: string;
  statementTimeoutMs: number;
  max?: number;
  /** Shown in pg_stat_activity. Default `gatehouse`. */
  applicationName?: string;
}

export function poolConfig(opts: DbOptions): pg.PoolConfig {
  return {
    connectionString: opts.url,
    max: opts.max ?? 10,
    connectionTimeoutMillis: opts.statementTimeoutMs,
    // Server-side limit for a statement, and a client-side limit one second later in case the
    // network itself is gone (a dead peer never answers the cancel).
    options: `-c search_path=${opts.schema} -c statement_timeout=${opts.statementTimeoutMs} -c lock_timeout=${opts.statementTimeoutMs}`,
    query_timeout: opts.statementTimeoutMs + 1000,
    keepAlive: true,
    application_name: opts.applicationName ?? 'gatehouse',
    idleTimeoutMillis: 30_000,
    types,
  } as pg.PoolConfig;
}

/** A pool whose every failure to reach the database surfaces as StoreUnavailableError. */
export class Db implements Queryable {
  readonly pool: pg.Pool;

  constructor(opts: DbOptions) {
    this.pool = new pg.Pool(poolConfig(opts));
    // An idle client whose backend dies emits 'error' on the pool; without a listener that would
    // crash the process. The pool drops the client and the next query opens a fresh one.
    this.pool.on('error', () => {});
  }

  async query<R extends Row = Row>(text: string, params: unknown[] = []): Promise<{ rows: R[]; rowCount: number }> {
    try {
      const r = await this.pool.query(text, params);
      return { rows: r.rows as R[], rowCount: r.rowCount ?? 0 };
    } catch (e) {
      throw wrapError(e);
    }
  }

  /** Runs `fn` in one transaction; rolls back on any error. */
  async tx<T>(fn: (q: Queryable) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (e) {
      throw wrapError(e);
    }
    const q: Queryable = {
      async query<R extends Row = Row>(text: string, params: unknown[] = []) {
        const r = await client.query(text, params);
        return { rows: r.rows as R[], rowCount: r.rowCount ?? 0 };
      },
    };
    let broken: unknown = undefined;
    try {
      await client.query('BEGIN');
      const out = await fn(q);
      await client.query('COMMIT');
      return out;
    } catch (e) {
      if (isUnavailable(e)) broken = e;
      else await client.query('ROLLBACK').catch((err: unknown) => { broken = err; });
      throw wrapError(e);
    } finally {
      // A client that failed mid-transaction is destroyed rather than returned to the pool.
      client.release(broken instanceof Error ? broken : undefined);
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
