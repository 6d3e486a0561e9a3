import { AsyncLocalStorage } from "node:async_hooks";

/** What every log line and audit event of one request may name: its id (see the HTTP observing layer). */
export interface RequestScope {
  readonly id: string;
}

/**
 * The request being served, through every await below the HTTP observing layer: audit events record its id
 * without each service taking the id as a parameter. One per process by nature (like the OpenTelemetry context);
 * it holds no state of its own, only what `runInRequest` puts in for the duration of a call.
 */
const scopes = new AsyncLocalStorage<RequestScope>();

/** Runs `fn` as part of the request `scope` (its awaits included). */
export function runInRequest<T>(scope: RequestScope, fn: () => T): T {
  return scopes.run(scope, fn);
}

/** The id of the request being served, when there is one. */
export function currentRequestId(): string | undefined {
  return scopes.getStore()?.id;
}
