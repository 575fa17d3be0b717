import type { Clock, Stores } from '../ports.js';

export interface CleanupHandle {
  /** Runs one sweep now (also what the timer does). Resolves the rows removed per kind. */
  runOnce(): Promise<{ sessions: number; refreshTokens: number; oneTimeTokens: number }>;
  stop(): void;
}

/**
 * Periodically removes expired sessions, refresh tokens and one-time tokens through the store's
 * `deleteExpired*` methods. Store-agnostic: for TTL stores those are no-ops. Audit retention is a
 * separate policy and not handled here. A failed sweep (store down) is reported through `onError`
 * and retried at the next tick; sweeps never overlap.
 */
export function startCleanup(
  stores: Partial<Pick<Stores, 'sessions' | 'refreshTokens' | 'oneTimeTokens'>>,
  intervalMs: number,
  clock: Clock,
  onError: (e: unknown) => void = () => {},
): CleanupHandle {
  if (!(intervalMs > 0)) throw new TypeError('cleanup interval must be positive');
  let running: Promise<unknown> | null = null;
  const runOnce = async () => {
    const now = clock.now();
    const sessions = (await stores.sessions?.deleteExpiredSessions(now)) ?? 0;
    const refreshTokens = (await stores.refreshTokens?.deleteExpiredRefreshTokens(now)) ?? 0;
    const oneTimeTokens = (await stores.oneTimeTokens?.deleteExpiredOneTimeTokens(now)) ?? 0;
    return { sessions, refreshTokens, oneTimeTokens };
  };
  const timer = setInterval(() => {
    if (running) return;
    running = runOnce()
      .catch(onError)
      .finally(() => {
        running = null;
      });
  }, intervalMs);
  timer.unref();
  return { runOnce, stop: () => clearInterval(timer) };
}
