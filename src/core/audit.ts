/** The audit trail: append-only security events. Details are categories and handles, never secrets. */
import type { AuditEvent, AuditEventType, AuditLog, Clock, Random } from '../ports.js';
import { timeOrderedId } from './crypto.js';
import { noTelemetry, type Telemetry } from './telemetry.js';

export interface RequestMeta {
  ip: string | null;
  userAgent: string | null;
  /** The Accept-Language header, for mail sent on behalf of the request (never stored in the trail). */
  acceptLanguage?: string | null;
}

const ALPHABET = '0123456789abcdefghijklmnopqrstuv';

/** The next id after `id` in the same 20-character base-32 alphabet (increments the random tail). */
function successor(id: string): string {
  const chars = id.split('');
  for (let i = chars.length - 1; i >= 0; i--) {
    const v = ALPHABET.indexOf(chars[i]!);
    if (v < 31) {
      chars[i] = ALPHABET[v + 1]!;
      return chars.join('');
    }
    chars[i] = '0';
  }
  return chars.join('');
}

export class Audit {
  /**
   * Ids order events (they are the cursor, newest first). Two events in the same millisecond would
   * otherwise order by their random tails, so within one process each id is forced above the last.
   */
  private lastId = '';

  constructor(
    private readonly log: AuditLog,
    private readonly clock: Clock,
    private readonly random: Random,
    private readonly telemetry: Telemetry = noTelemetry,
  ) {}

  async record(
    type: AuditEventType,
    who: { userId: string | null; sessionId?: string | null },
    meta: RequestMeta | null,
    detail: AuditEvent['detail'] = null,
  ): Promise<void> {
    const at = this.clock.now();
    let id = timeOrderedId(at, this.random);
    if (id <= this.lastId) id = successor(this.lastId);
    this.lastId = id;
    await this.log.appendEvent({
      id,
      at,
      type,
      userId: who.userId,
      sessionId: who.sessionId ?? null,
      ip: meta?.ip ?? null,
      userAgent: meta?.userAgent ? meta.userAgent.slice(0, 256) : null,
      detail,
    });
    this.telemetry.recorded(type, detail);
  }

  list(query: Parameters<AuditLog['listEvents']>[0]): Promise<AuditEvent[]> {
    return this.log.listEvents(query);
  }

  count(since: number, types: AuditEventType[]): ReturnType<AuditLog['countEvents']> {
    return this.log.countEvents(since, types);
  }

  /** Retention: drops events older than `retentionMs`. */
  prune(retentionMs: number): Promise<number> {
    return this.log.deleteEventsBefore(this.clock.now() - retentionMs);
  }
}
