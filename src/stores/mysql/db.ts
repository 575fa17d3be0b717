import mysql from 'mysql2/promise';
import { StoreUnavailableError } from '../../errors.js';

/**
 * Server error numbers that mean "the database is not there right now (or not for this statement)",
 * not "your statement is wrong". A deadlock (1213) is retried first; one that persists lands here.
 */
const UNAVAILABLE_ERRNOS = new Set([
  1040, // ER_CON_COUNT_ERROR: too many connections
  1053, // ER_SERVER_SHUTDOWN
  1152, // ER_ABORTING_CONNECTION
  1158, 1159, 1160, 1161, // ER_NET_READ_ERROR, _READ_INTERRUPTED, _ERROR_ON_WRITE, _WRITE_INTERRUPTED
  1203, // ER_TOO_MANY_USER_CONNECTIONS
  1205, // ER_LOCK_WAIT_TIMEOUT
  1213, // ER_LOCK_DEADLOCK (after retries)
  1290, // ER_OPTION_PREVENTS_STATEMENT: read-only during a failover
  1317, // ER_QUERY_INTERRUPTED (KILL QUERY)
  1792, // ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION
  1836, // ER_READ_ONLY_MODE
  1927, // ER_CONNECTION_KILLED (MariaDB: KILL CONNECTION)
  1969, // ER_STATEMENT_TIMEOUT (MariaDB: max_statement_time)
  3024, // ER_QUERY_TIMEOUT (MySQL: max_execution_time)
  4031, // ER_CLIENT_INTERACTION_TIMEOUT (MySQL: the server dropped an idle connection)
]);

const DEADLOCK = 1213;

/** Unavailable for this statement only: the connection itself is fine (rolled back and returned to the pool). */
const STATEMENT_ONLY = new Set([1205, 1213, 1290, 1317, 1792, 1836, 1969, 3024]);

/** Whether the connection that raised `e` must be thrown away. */
function isBroken(e: unknown): boolean {
  const errno = (e as { errno?: unknown } | null)?.errno;
  return isUnavailable(e) && !(typeof errno === 'number' && STATEMENT_ONLY.has(errno));
}

export function isUnavailable(e: unknown): boolean {
  if (e instanceof StoreUnavailableError) return true;
  if (!(e instanceof Error)) return false;
  const { errno, code } = e as { errno?: unknown; code?: unknown };
  if (typeof errno === 'number' && UNAVAILABLE_ERRNOS.has(errno)) return true;
  if (typeof code === 'string') {
    // PROTOCOL_CONNECTION_LOST, PROTOCOL_SEQUENCE_TIMEOUT, PROTOCOL_ENQUEUE_AFTER_FATAL_ERROR, ...
    if (code.startsWith('PROTOCOL_')) return true;
    if (/^E[A-Z]+$/.test(code)) return true; // ECONNREFUSED, ECONNRESET, ETIMEDOUT, EPIPE, EHOSTUNREACH, ...
  }
  return /closed state|Connection lost|Pool is closed/i.test(e.message);
}

export function wrapError(e: unknown): unknown {
  if (e instanceof StoreUnavailableError) return e;
  return isUnavailable(e) ? new StoreUnavailableError('mysql', e) : e;
}

export type Row = Record<string, unknown>;

export interface Result<R = Row> {
  /** Rows of a SELECT; empty for other statements. */
  rows: R[];
  /** Rows matched by an UPDATE (the pool sets CLIENT_FOUND_ROWS), inserted or deleted. */
  affected: number;
  /** The OK packet's last insert id (also what `LAST_INSERT_ID(expr)` set). */
  insertId: number;
}

export interface Queryable {
  /** Runs one statement as a server-side prepared statement (cached per connection). */
  exec<R = Row>(sql: string, params?: readonly unknown[]): Promise<Result<R>>;
}

export type Flavor = 'mariadb' | 'mysql';

export interface DbOptions {
  url: string;
  /** Per-operation budget (ms): statements are stopped by the server at this, and abandoned by the client one second later. */
  timeoutMs: number;
  /** Pool size. Default 10. */
  max?: number;
}

/** `mysql://` or `mariadb://`: mysql2 reads host, port, user, password, database and mysql2 options from the query string. */
export function isMysqlUrl(url: string): boolean {
  return url.startsWith('mysql://') || url.startsWith('mariadb://');
}

export function poolOptions(opts: DbOptions): mysql.PoolOptions {
  return {
    uri: opts.url.replace(/^mariadb:/, 'mysql:'),
    connectionLimit: opts.max ?? 10,
    maxIdle: opts.max ?? 10,
    idleTimeout: 30_000,
    connectTimeout: opts.timeoutMs,
    enableKeepAlive: true,
    keepAliveInitialDelay: 10_000,
    charset: 'UTF8MB4_BIN',
    // Epoch milliseconds fit a double exactly; BIGINT columns are read as numbers.
    supportBigNumbers: false,
    dateStrings: true,
    multipleStatements: false,
    // The store prepares a few dozen distinct statements; the server's budget for them is shared.
    maxPreparedStatements: 128,
    namedPlaceholders: false,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Conn = mysql.PoolConnection;

/** What every connection of the pool is set to before its first statement. */
function sessionSettings(flavor: Flavor, timeoutMs: number): string[] {
  const lockSeconds = Math.max(1, Math.ceil(timeoutMs / 1000));
  const limits =
    flavor === 'mariadb'
      ? `max_statement_time = ${(timeoutMs / 1000).toFixed(3)}`
      : `max_execution_time = ${Math.ceil(timeoutMs)}`; // MySQL: SELECTs only; lock waits are bounded below
  return [
    // Strict: a value that does not fit is an error, never a silent truncation; InnoDB or nothing.
    `SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION,NO_ZERO_DATE,NO_ZERO_IN_DATE,ERROR_FOR_DIVISION_BY_ZERO',
       ${limits}, innodb_lock_wait_timeout = ${lockSeconds}, lock_wait_timeout = ${lockSeconds}`,
    // Statements see what is committed when they start; locking reads take no gap locks.
    'SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED',
  ];
}

/**
 * A mysql2 pool whose every failure to reach the database surfaces as StoreUnavailableError within the
 * operation budget: the server stops a statement at `timeoutMs` (MariaDB `max_statement_time`, InnoDB
 * lock waits), and the client abandons the whole operation — waiting for a pooled connection included —
 * one second later, destroying its connection, in case the network itself is gone.
 */
export class Db implements Queryable {
  readonly pool: mysql.Pool;
  readonly timeoutMs: number;
  private readonly deadlineMs: number;
  private readonly ready = new WeakSet<object>();
  private flavorSeen: Flavor | null = null;

  constructor(opts: DbOptions) {
    this.timeoutMs = opts.timeoutMs;
    this.deadlineMs = opts.timeoutMs + 1000;
    this.pool = mysql.createPool(poolOptions(opts));
    // An idle connection that dies emits 'error'; the pool drops it and the next operation opens another.
    this.pool.pool.on('connection', (c) => c.on('error', () => {}));
  }

  /** MariaDB or MySQL, once a connection has been made. */
  get flavor(): Flavor | null {
    return this.flavorSeen;
  }

  private async prepare(conn: Conn): Promise<void> {
    const core = conn.connection as unknown as object;
    if (this.ready.has(core)) return;
    const [rows] = await conn.query<mysql.RowDataPacket[]>('SELECT @@version AS v');
    const flavor: Flavor = /mariadb/i.test(String(rows[0]?.v ?? '')) ? 'mariadb' : 'mysql';
    this.flavorSeen = flavor;
    for (const sql of sessionSettings(flavor, this.timeoutMs)) await conn.query(sql);
    this.ready.add(core);
  }

  /**
   * Runs `fn` on one pooled connection within the operation budget. A connection that failed (or was
   * abandoned, or whose session `fn` changed: `discard`) is destroyed rather than returned to the pool.
   */
  async withConnection<T>(fn: (conn: Conn) => Promise<T>, opts: { budgetMs?: number; discard?: boolean } = {}): Promise<T> {
    const budgetMs = opts.budgetMs ?? this.deadlineMs;
    let conn: Conn | null = null;
    let abandoned = false;
    let timer: NodeJS.Timeout | undefined;
    const destroy = (c: Conn) => {
      c.destroy();
      // close() only half-closes; a dead peer would hold the socket until the kernel gives up.
      (c.connection as unknown as { stream?: { destroy?: () => void } }).stream?.destroy?.();
    };
    const work = (async () => {
      const c = await this.pool.getConnection();
      if (abandoned) {
        c.release();
        throw new StoreUnavailableError('mysql');
      }
      conn = c;
      let broken = false;
      try {
        await this.prepare(c);
        return await fn(c);
      } catch (e) {
        broken = isBroken(e);
        throw e;
      } finally {
        if (!abandoned) {
          if (broken || opts.discard) destroy(c);
          else c.release();
        }
      }
    })();
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        abandoned = true;
        if (conn) destroy(conn);
        reject(new StoreUnavailableError('mysql', new Error(`no answer within ${budgetMs} ms`)));
      }, budgetMs);
    });
    work.catch(() => {}); // settled late after a timeout: nobody is waiting any more
    try {
      return await Promise.race([work, deadline]);
    } catch (e) {
      throw wrapError(e);
    } finally {
      clearTimeout(timer);
    }
  }

  async exec<R = Row>(sql: string, params: readonly unknown[] = []): Promise<Result<R>> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.withConnection((c) => run<R>(c, sql, params));
      } catch (e) {
        if (attempt < 2 && isDeadlock(e)) {
          await sleep(5 + Math.random() * 20);
          continue;
        }
        throw e;
      }
    }
  }

  /**
   * Runs `fn` in one transaction (READ COMMITTED); rolls back on any error. InnoDB resolves a deadlock
   * by rolling one transaction back whole, so that one is run again (at most twice more).
   */
  async tx<T>(fn: (q: Queryable) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.withConnection(async (c) => {
          await c.query('START TRANSACTION');
          try {
            const out = await fn({ exec: (sql, params) => run(c, sql, params ?? []) });
            await c.query('COMMIT');
            return out;
          } catch (e) {
            // A broken connection is destroyed, which rolls back on the server.
            if (!isBroken(e)) await c.query('ROLLBACK');
            throw e;
          }
        });
      } catch (e) {
        if (attempt < 2 && isDeadlock(e)) {
          await sleep(5 + Math.random() * 20);
          continue;
        }
        throw e;
      }
    }
  }

  async close(): Promise<void> {
    // end() says goodbye on every connection; a server that is gone must not hold up shutdown.
    await Promise.race([this.pool.end().catch(() => {}), new Promise((r) => setTimeout(r, 1000).unref())]);
  }
}

function isDeadlock(e: unknown): boolean {
  const cause = e instanceof StoreUnavailableError ? e.cause : e;
  return (cause as { errno?: unknown } | null)?.errno === DEADLOCK;
}

async function run<R>(c: Conn, sql: string, params: readonly unknown[]): Promise<Result<R>> {
  // mysql2 refuses undefined; an absent optional field is NULL, as with the other SQL stores.
  const values = params.map((v) => (v === undefined ? null : v)) as mysql.ExecuteValues[];
  const [out] = await c.execute(sql, values);
  if (Array.isArray(out)) return { rows: out as R[], affected: 0, insertId: 0 };
  const h = out as mysql.ResultSetHeader;
  return { rows: [], affected: h.affectedRows, insertId: Number(h.insertId) };
}
