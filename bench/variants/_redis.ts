// Where the Redis-backed variants keep their keys, shared with the harness's byte counter.
export function redisUrl(): string {
  return process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
}

/** Key prefix of one server start (see VariantContext.runId). */
export function sessionPrefix(runId: string): string {
  return `bench:${runId}:sess:`;
}

/** Redis key prefix of a Gatehouse variant's server start (its `redisPrefix`). */
export function gatehousePrefix(runId: string): string {
  return `bench:${runId}:gh:`;
}
