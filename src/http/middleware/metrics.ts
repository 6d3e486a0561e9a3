import { collectDefaultMetrics, Registry } from "prom-client";
import { DurationHistogram } from "./duration-histogram.js";

/** A metrics registry with process metrics and the HTTP request duration histogram. */
export interface HttpMetrics {
  registry: Registry;
  /** `archway_http_request_duration_seconds` by method, matched route and status. */
  requestDuration: DurationHistogram;
}

/** Creates a fresh registry (one per app, so tests and several apps in one process do not collide). */
export function createHttpMetrics(): HttpMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "archway_" });
  const requestDuration = new DurationHistogram(
    "archway_http_request_duration_seconds",
    "HTTP request duration by method, matched route and status",
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  ).register(registry);
  return { registry, requestDuration };
}
