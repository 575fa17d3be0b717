/**
 * Readiness: whether this instance can serve now, dependency by dependency. `/healthz` says the process
 * is alive; `/readyz` says whether a load balancer should send it traffic: the database and Redis
 * answer, the revocation feed is trusted (live and replayed) and a signing key is loaded.
 */
export interface ReadinessCheck {
  ok: boolean;
  /** A required check that fails makes the instance not ready (503). */
  required: boolean;
  /** A short category when not ok (`timeout`, `unavailable`, `not_trusted`, `not_loaded`): never an error message. */
  reason?: string;
}

export interface Readiness {
  ready: boolean;
  checks: Record<string, ReadinessCheck>;
}

export interface ReadinessSources {
  database: () => Promise<void>;
  redis: (() => Promise<void>) | null;
  feedTrusted: () => boolean;
  signingKeyLoaded: () => boolean;
  /** Budget of each store check (ms). */
  timeoutMs: number;
}

async function probe(check: () => Promise<void>, timeoutMs: number): Promise<ReadinessCheck> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
    timer.unref();
  });
  try {
    const r = await Promise.race([check().then(() => 'ok' as const), late]);
    return r === 'ok' ? { ok: true, required: true } : { ok: false, required: true, reason: 'timeout' };
  } catch {
    return { ok: false, required: true, reason: 'unavailable' };
  } finally {
    clearTimeout(timer);
  }
}

/** Runs every check (the store ones in parallel, each within its budget). */
export async function checkReadiness(s: ReadinessSources): Promise<Readiness> {
  const [database, redis] = await Promise.all([probe(s.database, s.timeoutMs), s.redis ? probe(s.redis, s.timeoutMs) : Promise.resolve(null)]);
  const checks: Record<string, ReadinessCheck> = { database };
  if (redis) checks.redis = redis;
  const trusted = s.feedTrusted();
  checks.revocation_feed = trusted ? { ok: true, required: true } : { ok: false, required: true, reason: 'not_trusted' };
  const key = s.signingKeyLoaded();
  checks.signing_key = key ? { ok: true, required: true } : { ok: false, required: true, reason: 'not_loaded' };
  const ready = Object.values(checks).every((c) => c.ok || !c.required);
  return { ready, checks };
}
