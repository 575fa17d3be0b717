/**
 * The core's one outward signal for operations: what happened, as domain events, for whoever watches
 * (metrics in src/observability/). The core never imports a metrics or tracing library; it calls this
 * port, whose default does nothing, so a deployment without metrics pays one empty call per event.
 *
 * Every argument is a category, a count or a duration: never an id, an address or a secret.
 */
import type { AuditEvent, AuditEventType, ChangeEvent } from '../ports.js';

/** How a refresh-token rotation ended. */
export type RefreshOutcome = 'rotated' | 'reuse_detected' | 'invalid' | 'proof_refused';

export interface Telemetry {
  /** A security event, once the audit trail holds it: its type and its secret-free detail. */
  recorded(type: AuditEventType, detail: AuditEvent['detail']): void;
  /** A refresh-token rotation ended this way. */
  refreshed(outcome: RefreshOutcome): void;
  /** The change feed delivered an event live, `lagMs` after it was made (its `at`) on the publishing instance. */
  feedDelivered(type: ChangeEvent['type'], lagMs: number): void;
}

export const noTelemetry: Telemetry = {
  recorded() {},
  refreshed() {},
  feedDelivered() {},
};
