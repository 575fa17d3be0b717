/** The audit trail: append-only security events. Details are categories and handles, never secrets. */
import type { AuditEvent, AuditEventType, AuditLog, Clock, Random } from '../ports.js';
import { timeOrderedId } from './crypto.js';

export interface RequestMeta {
  ip: string | null;
  userAgent: string | null;
}

export class Audit {
  constructor(
    private readonly log: AuditLog,
    private readonly clock: Clock,
    private readonly random: Random,
  ) {}

  async record(
    type: AuditEventType,
    who: { userId: string | null; sessionId?: string | null },
    meta: RequestMeta | null,
    detail: AuditEvent['detail'] = null,
  ): Promise<void> {
    const at = this.clock.now();
    await this.log.appendEvent({
      id: timeOrderedId(at, this.random),
      at,
      type,
      userId: who.userId,
      sessionId: who.sessionId ?? null,
      ip: meta?.ip ?? null,
      userAgent: meta?.userAgent ? meta.userAgent.slice(0, 256) : null,
      detail,
    });
  }

  list(query: Parameters<AuditLog['listEvents']>[0]): Promise<AuditEvent[]> {
    return this.log.listEvents(query);
  }

  /** Retention: drops events older than `retentionMs`. */
  prune(retentionMs: number): Promise<number> {
    return this.log.deleteEventsBefore(this.clock.now() - retentionMs);
  }
}
