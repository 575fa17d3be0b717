import pg from 'pg';
import { CONFIG_DEFAULTS } from '../../config.js';
import type { ChangeEvent, ChangeFeed, Clock } from '../../ports.js';
import { Subscribers } from '../subscribers.js';
import { Db, SCHEMA_RE, poolConfig, wrapError } from './db.js';
import { migrate } from './migrations.js';

export interface PostgresFeedOptions {
  url: string;
  schema?: string;
  /** Events stay replayable at least this long (default and minimum: 2 h). */
  retentionMs?: number;
  statementTimeoutMs?: number;
  /** Delay before the LISTEN connection is re-opened after it drops (doubles up to 5 s). */
  reconnectDelayMs?: number;
  clock?: Clock;
  /** Reuse an existing pool (the store's); otherwise the feed opens its own small one. */
  db?: Db;
  applicationName?: string;
}

export interface PostgresChangeFeed extends ChangeFeed {
  /** The backend pid of the LISTEN connection, or null while disconnected (for fault tests). */
  readonly listenerPid: number | null;
}

const TWO_HOURS = 2 * 3_600_000;

/**
 * Change feed over PostgreSQL: publish appends to `change_log` and NOTIFYs in the same transaction
 * (the notification is delivered only if the row committed); one dedicated LISTEN connection per
 * feed delivers to local subscribers and reconnects on its own. `replay` reads `change_log`, which
 * is what an instance uses to catch up after an outage.
 */
export async function createPostgresFeed(opts: PostgresFeedOptions): Promise<PostgresChangeFeed> {
  const schema = opts.schema ?? CONFIG_DEFAULTS.databaseSchema;
  if (!SCHEMA_RE.test(schema)) throw new TypeError(`invalid schema name: ${schema}`);
  const timeout = opts.statementTimeoutMs ?? CONFIG_DEFAULTS.storeTimeout;
  const retentionMs = Math.max(opts.retentionMs ?? TWO_HOURS, TWO_HOURS);
  const clock = opts.clock ?? { now: () => Date.now() };
  const baseDelay = opts.reconnectDelayMs ?? 200;
  const ownDb = !opts.db;
  const db = opts.db ?? new Db({ url: opts.url, schema, statementTimeoutMs: timeout, max: 2, applicationName: opts.applicationName });
  if (ownDb) await migrate((fn) => db.tx(fn), schema);
  const channel = `gatehouse_${schema}`.slice(0, 63);

  const subscribers = new Subscribers();
  let client: pg.Client | null = null;
  let connected = false;
  let closed = false;
  let delay = baseDelay;
  let timer: NodeJS.Timeout | null = null;
  let lastPrune = 0;
  let pid: number | null = null;

  const setStatus = (up: boolean) => {
    if (connected === up) return;
    connected = up;
    subscribers.status(up);
  };

  const scheduleReconnect = () => {
    if (closed || timer) return;
    timer = setTimeout(() => {
      timer = null;
      void connect();
    }, delay);
    timer.unref();
    delay = Math.min(delay * 2, 5000);
  };

  const connect = async (): Promise<void> => {
    if (closed) return;
    const c = new pg.Client({ ...poolConfig({ url: opts.url, schema, statementTimeoutMs: timeout, applicationName: `${opts.applicationName ?? 'gatehouse'}:listen` }), keepAliveInitialDelayMillis: 1000 } as pg.ClientConfig);
    const lost = () => {
      if (client !== c) return;
      client = null;
      pid = null;
      c.removeAllListeners('notification');
      c.end().catch(() => {});
      setStatus(false);
      scheduleReconnect();
    };
    c.on('error', lost);
    c.on('end', lost);
    c.on('notification', (m) => {
      if (m.channel !== channel || !m.payload) return;
      let e: ChangeEvent;
      try {
        e = JSON.parse(m.payload) as ChangeEvent;
      } catch {
        return;
      }
      subscribers.deliver(e);
    });
    try {
      client = c;
      await c.connect();
      await c.query(`LISTEN "${channel}"`);
      const r = await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      if (closed || client !== c) {
        // Closed (or replaced) while connecting: this connection is nobody's now.
        await c.end().catch(() => {});
        return;
      }
      pid = r.rows[0]?.pid ?? null;
      delay = baseDelay;
      setStatus(true);
    } catch {
      if (client === c) lost();
    }
  };

  await connect();

  return {
    retentionMs,
    get connected() {
      return connected;
    },
    get listenerPid() {
      return pid;
    },
    async publish(e) {
      const payload = JSON.stringify(e);
      await db.tx(async (q) => {
        await q.query(`INSERT INTO change_log (at, event) VALUES ($1, $2)`, [e.at, payload]);
        await q.query(`SELECT pg_notify($1, $2)`, [channel, payload]);
        // Prune by the publisher's own timeline (event times), at most once a minute.
        const now = clock.now();
        if (now - lastPrune > 60_000) {
          lastPrune = now;
          await q.query(`DELETE FROM change_log WHERE at < $1`, [e.at - retentionMs]);
        }
      });
    },
    subscribe(h) {
      return subscribers.add(h);
    },
    async replay(since) {
      try {
        const r = await db.query<{ event: string }>(`SELECT event FROM change_log WHERE at >= $1 ORDER BY seq`, [since]);
        return r.rows.map((x) => JSON.parse(x.event) as ChangeEvent);
      } catch (e) {
        throw wrapError(e);
      }
    },
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      const c = client;
      client = null;
      pid = null;
      connected = false;
      // end() waits for the server's goodbye; a half-open socket must not hold up shutdown.
      if (c) await Promise.race([c.end().catch(() => {}), new Promise((r) => setTimeout(r, 1000).unref())]);
      if (ownDb) await db.close();
    },
  };
}
