/**
 * Starts the real Gatehouse server on a random port for HTTP tests, with cheap password hashing
 * (explicitly allowed through config), an injectable clock and captured JSON logs.
 */
import { Writable } from 'node:stream';
import { resolveConfig, type GatehouseConfigInput } from '../../src/config.js';
import type { ClaimsHook } from '../../src/core/tokens.js';
import type { Stores } from '../../src/ports.js';
import { createServerApp, type ServerApp } from '../../src/server/app.js';
import { createLogger } from '../../src/server/logger.js';
import { createMemoryStores } from '../../src/stores/memory/index.js';
import { TestClock } from './clock.js';

export const CHEAP_HASHING = { memoryCost: 1024, timeCost: 1, parallelism: 1, unsafeAllowWeak: true } as const;

export interface TestServer {
  url: string;
  port: number;
  srv: ServerApp;
  clock: TestClock;
  stores: Stores;
  logs: string[];
  close(): Promise<void>;
}

function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && typeof out[k] === 'object' ? deepMerge(out[k] as Record<string, unknown>, v as Record<string, unknown>) : v;
  }
  return out;
}

export async function startTestServer(opts: { config?: GatehouseConfigInput; stores?: Stores; clock?: TestClock; claims?: ClaimsHook; port?: number } = {}): Promise<TestServer> {
  const clock = opts.clock ?? new TestClock();
  const stores = opts.stores ?? createMemoryStores();
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logs.push(String(chunk));
      cb();
    },
  });
  // Brute-force limits are off here because most tests sign in many times from one address; the
  // hardening tests turn them on explicitly with `config: { rateLimits: { enabled: true } }`.
  const base = { databaseUrl: 'memory:', passwordHashing: CHEAP_HASHING, logLevel: 'info', rateLimits: { enabled: false } };
  const config = resolveConfig(deepMerge(base, (opts.config ?? {}) as Record<string, unknown>));
  const srv = await createServerApp({ config, logger: createLogger(config.logLevel, sink), stores, clock, ...(opts.claims ? { claims: opts.claims } : {}) });
  // A fixed port lets a test set publicUrl (the token issuer) to the server's own address.
  const port = await srv.listen(opts.port ?? 0, '127.0.0.1');
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    srv,
    clock,
    stores,
    logs,
    close: () => srv.close(),
  };
}

/** A tiny HTTP client keeping one cookie jar (like a browser tab), over fetch. */
export class Client {
  jar = new Map<string, string>();
  constructor(readonly base: string) {}

  async req(method: string, path: string, opts: { json?: unknown; body?: string; headers?: Record<string, string>; bearer?: string; noCookies?: boolean } = {}) {
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    if (opts.json !== undefined) headers['content-type'] ??= 'application/json';
    if (opts.bearer) headers.authorization = `Bearer ${opts.bearer}`;
    if (!opts.noCookies && this.jar.size > 0 && headers.cookie === undefined) {
      headers.cookie = [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
    }
    const res = await fetch(this.base + path, {
      method,
      headers,
      body: opts.body ?? (opts.json !== undefined ? JSON.stringify(opts.json) : undefined),
      redirect: 'manual',
    });
    for (const sc of res.headers.getSetCookie()) {
      const [pair] = sc.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      if (/Max-Age=0/i.test(sc) || value === '') this.jar.delete(name);
      else this.jar.set(name, value);
    }
    const text = await res.text();
    let body: any = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = text;
    }
    return { status: res.status, headers: res.headers, body, text };
  }
}

let seq = 0;
export function uniqueEmail(prefix = 'user'): string {
  return `${prefix}${process.pid}x${++seq}x${Math.floor(Math.random() * 1e6)}@example.com`;
}

export const GOOD_PASSWORD = 'correct horse battery staple';
