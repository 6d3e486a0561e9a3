import { ArchwayMetrics, type MetricsOptions } from "../../metrics/index.js";

/** The metrics an app renders on `/metrics` and observes requests into: the process's {@link ArchwayMetrics}. */
export type HttpMetrics = ArchwayMetrics;

/**
 * Creates a fresh registry with every Archway metric (one per app, so tests and several apps in one process do not
 * collide). `archway serve` uses the runtime's instead, which the other parts count into.
 */
export function createHttpMetrics(opts?: MetricsOptions): HttpMetrics {
  return new ArchwayMetrics(opts);
}
