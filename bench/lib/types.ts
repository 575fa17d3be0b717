/** Shared shapes of the benchmark: variants, credentials, measurements. */

/** What a setup step or a login storm knows about the running server. */
export interface VariantContext {
  /** e.g. `http://127.0.0.1:40123` (loopback only). */
  baseUrl: string;
  /** The variant's name, for unique prefixes or user names. */
  name: string;
  /**
   * Unique per server start; the server gets it as $BENCH_RUN_ID. Variants that use a shared
   * service (Redis, Postgres) derive their key prefix or schema from it and drop it on exit.
   */
  runId: string;
}

/** What the load generator sends with every request. */
export interface Credential {
  headers: Record<string, string>;
  /** A DPoP-bound token: the load generator signs one proof per request with this key (a proof is single-use). */
  dpop?: DpopLoad;
}

export interface DpopLoad {
  /** The client's ES256 private key (a throwaway key made for the run). */
  privateJwk: Record<string, unknown>;
  publicJwk: Record<string, unknown>;
  accessToken: string;
  htm: string;
  /** The URI the proofs name (the server's public URL + the measured path). */
  htu: string;
}

/**
 * A login storm: a background loop that performs `login` at a fixed rate while the
 * load generator measures the GET. It answers "does hashing stall the event loop?".
 */
export interface LoginStorm {
  /**
   * One complete login against the server (for Gatehouse: POST /auth/login with a password,
   * which runs argon2id). Resolves when the server has answered; rejects on a non-2xx.
   * Called with a sequence number so implementations can spread over several users.
   */
  login(ctx: VariantContext, seq: number): Promise<void>;
}

/** Extra figures a variant can report once per round (e.g. Redis bytes per session). */
export type Metrics = Record<string, number>;

export interface VariantDef {
  /**
   * Unique name. Baselines: `bare-http`, `bare-express`. Every Gatehouse variant contains
   * `gatehouse`, and `node-http` when it runs on the framework-free path.
   */
  name: string;
  /** One line for the README and the Markdown table's notes. */
  description: string;
  /** Server entry, relative to bench/variants/. Started as `node --import tsx <file>`. */
  file: string;
  /** Path the load generator GETs (default `/me`). */
  path?: string;
  /** Creates the credential the load generator sends (cookie or bearer token). */
  setup(ctx: VariantContext): Promise<Credential>;
  /** Optional login storm scenario (p99 of the GET while N logins/s run). */
  storm?: LoginStorm;
  /** Optional extra figures measured after the load run, while the server is still up. */
  metrics?(ctx: VariantContext): Promise<Metrics>;
  /** Extra environment for the server process. */
  env?: Record<string, string>;
  /** The server runs the built package (dist/): the harness builds it first when it is stale. */
  build?: boolean;
}

/** One autocannon run, as printed by bench/load.ts. */
export interface LoadSample {
  rps: number;
  requests: number;
  /** Requests of the warm-up before the measurement (not in `requests`). */
  warmupRequests?: number;
  /**
   * Server CPU time (its process tree, from /proc) per request over warm-up and measurement, in µs.
   * Set by the harness, not the load generator; steadier than req/s on a shared machine.
   */
  serverCpuUsPerRequest?: number;
  durationS: number;
  latency: { p50: number; p90: number; p99: number; max: number; mean: number };
  non2xx: number;
  errors: number;
  timeouts: number;
  storm?: StormStats;
}

export interface StormStats {
  ratePerSec: number;
  attempted: number;
  succeeded: number;
  failed: number;
  /** Logins answered 503 (admission control of password hashing): refused at once, not failed. */
  refused: number;
  /** Logins not started because too many were still in flight. */
  skipped: number;
  /** Achieved logins per second over the measurement window. */
  achievedPerSec: number;
  latencyP99Ms: number;
  /** Median time of the successful logins. */
  latencyP50Ms: number;
}
