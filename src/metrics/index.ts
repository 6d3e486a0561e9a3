/**
 * Metrics: the process's one prom-client registry with every `archway_*` metric ({@link ArchwayMetrics}), the
 * request histogram, bounded-label helpers, and a wrapper that times an object's calls.
 */
export { DurationHistogram } from "./duration-histogram.js";
export { KnownIds, methodLabel, serviceLabel, statusClass, UPSTREAM_SERVICES } from "./labels.js";
export { ArchwayMetrics, type MetricsOptions, type QueueDepth, type TokenKind, type TokenResult } from "./registry.js";
export { timedCalls } from "./timed.js";
