/**
 * The instrumenting decorator of the store ports, applied in the composition root: each call of a
 * store method is timed (metrics) and wrapped in a span (traces). The core and the stores know
 * nothing of it. Labels are the store's kind (`sqlite`, `redis`…) and `port.method` names: a fixed set.
 *
 * The change feed is passed through as it is (its live link is watched by the revocation metrics),
 * and so are `ping` and `close`.
 */
import { SpanKind, type Tracer } from '@opentelemetry/api';
import type { Stores } from '../ports.js';
import { failSpan } from './tracing.js';

/** Where the timings of one store operation go; `kind` of a failure: `timeout`, `unavailable` (any other outage) or `error`. */
export interface OperationObserver {
  done(seconds: number): void;
  failed(seconds: number, kind: StoreFailure): void;
}

/** Hands out one observer per store operation, once, when the stores are wrapped. */
export interface StoreObserver {
  operation(store: string, operation: string): OperationObserver;
}

export type StoreFailure = 'timeout' | 'unavailable' | 'error';

const TIMEOUT = /time(?:d)?[ -]?out/i;

/** A store failure's category: a timeout (the driver's or the store's own budget), another outage, or an error. */
export function storeFailure(e: unknown): StoreFailure {
  let cur: unknown = e;
  let unavailable = false;
  for (let depth = 0; cur instanceof Error && depth < 4; depth++) {
    if ((cur as { code?: unknown }).code === 'store_unavailable') unavailable = true;
    if (TIMEOUT.test(cur.message)) return 'timeout';
    cur = cur.cause;
  }
  return unavailable ? 'unavailable' : 'error';
}

/** The store kind behind each port: from the URLs the stores were opened from, or one label for injected ones. */
export function storeKinds(databaseUrl: string, redisUrl: string | null, injected: string | null): (port: keyof Stores) => string {
  if (injected !== null) return () => injected;
  const sql = databaseUrl.startsWith('memory:') ? 'memory' : databaseUrl.startsWith('sqlite:') ? 'sqlite' : /^postgres(?:ql)?:/.test(databaseUrl) ? 'postgres' : /^(?:mysql|mariadb):/.test(databaseUrl) ? 'mysql' : 'other';
  const onRedis = new Set<keyof Stores>(redisUrl ? ['sessions', 'refreshTokens', 'proofs'] : []);
  return (port) => (onRedis.has(port) ? 'redis' : sql);
}

const PASSED = new Set<string>(['feed', 'ping', 'close']);

/** The methods of a store object (own and inherited, not Object's). */
function methodNames(o: object): string[] {
  const names = new Set<string>();
  for (let p: object | null = o; p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    for (const k of Object.getOwnPropertyNames(p)) {
      if (k === 'constructor') continue;
      const d = Object.getOwnPropertyDescriptor(p, k);
      if (d && typeof d.value === 'function') names.add(k);
    }
  }
  return [...names];
}

function instrumentPort<T extends object>(target: T, store: string, port: string, observer: StoreObserver | null, tracer: Tracer | null): T {
  const out: Record<string, unknown> = {};
  const methods = target as Record<string, (...a: unknown[]) => unknown>;
  for (const name of methodNames(target)) {
    const operation = `${port}.${name}`;
    const spanName = `gatehouse.store ${operation}`;
    const attributes = { 'db.system': store, 'gatehouse.store.operation': operation };
    const obs = observer ? observer.operation(store, operation) : null;
    out[name] = (...args: unknown[]) => {
      const t0 = performance.now();
      const span = tracer ? tracer.startSpan(spanName, { kind: SpanKind.CLIENT, attributes }) : null;
      let p: Promise<unknown>;
      try {
        // Looked up at call time: a method replaced on the store later (a test's spy) is the one called.
        p = Promise.resolve(methods[name]!.apply(target, args));
      } catch (e) {
        p = Promise.reject(e);
      }
      return p.then(
        (v) => {
          obs?.done((performance.now() - t0) / 1000);
          span?.end();
          return v;
        },
        (e: unknown) => {
          obs?.failed((performance.now() - t0) / 1000, storeFailure(e));
          if (span) {
            failSpan(span, e);
            span.end();
          }
          throw e;
        },
      );
    };
  }
  return out as T;
}

/** The stores with every port method timed and traced; `feed`, `ping` and `close` are the originals. */
export function instrumentStores(stores: Stores, kindOf: (port: keyof Stores) => string, observer: StoreObserver | null, tracer: Tracer | null): Stores {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(stores) as Array<keyof Stores>) {
    const v = stores[key];
    out[key] = PASSED.has(key) || typeof v !== 'object' || v === null ? v : instrumentPort(v, kindOf(key), key, observer, tracer);
  }
  // ping and close keep `this` semantics of the bundle they came from.
  out.ping = () => stores.ping();
  out.close = () => stores.close();
  return out as unknown as Stores;
}
