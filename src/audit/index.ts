/**
 * Audit events: who did what, where, and why (which policy). Each event goes to the structured log and to the
 * store's append-only `audit` stream, which `/admin` and `archway audit` read back.
 */

import { isArchwayError, STORE_UNAVAILABLE } from "../errors.js";
import { currentRequestId, type Logger } from "../log/index.js";
import { LogLimiter, type Store, type StreamEntry } from "../store/index.js";

/** The stream key in the store. */
export const AUDIT_STREAM = "audit";

/** One audit event. Never put a password, token or secret in it. */
export interface AuditEvent {
  /** What happened, dotted: `login.success`, `login.failure`, `token.issued`, `sync.applied`, ... */
  type: string;
  /** Who acted or was acted upon (username or identity id), when known. */
  actor?: string;
  /** Cloud id, when the event concerns one. */
  cloud?: string;
  /** Extra structured detail (policy names, client address, reason). */
  [key: string]: unknown;
}

/** A function that records an audit event; passed to every component that needs one. */
export type Audit = (event: AuditEvent) => Promise<void>;

/** Builds the audit recorder. A store failure is logged, not thrown: auditing must not break a login. */
export function createAudit(deps: { store: Store; log: Logger; now?: () => Date; maxLength?: number }): Audit {
  const now = deps.now ?? (() => new Date());
  const unstored = new LogLimiter();
  return async (event) => {
    // Copied, then stamped: an object spread with the extra field took V8's slow path for events of many shapes.
    const record: AuditEvent = Object.assign({}, event);
    record.at = now().toISOString();
    // The HTTP request that caused it, so an audit event leads to its access-log line (and back).
    if (record.requestId === undefined) {
      const requestId = currentRequestId();
      if (requestId !== undefined) record.requestId = requestId;
    }
    deps.log.info({ audit: record }, event.type);
    try {
      await deps.store.append(AUDIT_STREAM, record, { maxLength: deps.maxLength ?? 1_000_000 });
    } catch (err) {
      // During a store outage every request would add this line: one per interval says it (issue 23).
      if (isArchwayError(err) && err.code === STORE_UNAVAILABLE)
        unstored.take(STORE_UNAVAILABLE, (suppressed) =>
          deps.log.error(
            { err: err.message, type: event.type, suppressed },
            "audit events not stored: store unavailable",
          ),
        );
      else deps.log.error({ err: (err as Error).message, type: event.type }, "audit event not stored");
    }
  };
}

/** Reads audit events, newest last; `after` continues from a previous read. */
export async function readAudit(store: Store, opts: { after?: string; limit?: number } = {}): Promise<StreamEntry[]> {
  return opts.after
    ? store.read(AUDIT_STREAM, opts)
    : store.read(AUDIT_STREAM, { limit: opts.limit ?? 100, latest: true });
}
