/** Periodic sweeps: expired sessions, refresh and one-time tokens, and audit retention. */
import type { Logger } from 'pino';
import type { GatehouseConfig } from '../config.js';
import type { AuthCore } from '../core/auth.js';

export function startMaintenance(core: AuthCore, config: GatehouseConfig, logger: Logger): () => void {
  const run = async () => {
    const now = core.clock.now();
    const s = core.stores;
    try {
      const removed = {
        sessions: await s.sessions.deleteExpiredSessions(now),
        refresh_tokens: await s.refreshTokens.deleteExpiredRefreshTokens(now),
        one_time_tokens: await s.oneTimeTokens.deleteExpiredOneTimeTokens(now),
        audit_events: await core.audit.prune(config.auditRetention),
      };
      logger.debug({ removed }, 'maintenance');
    } catch (e) {
      logger.warn({ err: e }, 'maintenance sweep failed; will retry');
    }
  };
  const timer = setInterval(() => void run(), config.cleanupInterval);
  timer.unref();
  return () => clearInterval(timer);
}
