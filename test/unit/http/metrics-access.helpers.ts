import { healthRoutes } from "../../../src/http/health.js";
import { createHttpMetrics, type MetricsAccess } from "../../../src/http/index.js";
import { MemoryStore } from "../../../src/store/index.js";

/** A store and metrics for the health routes. */
export function parts() {
  return { store: new MemoryStore(), metrics: createHttpMetrics({ defaultMetrics: false }) };
}

/** The main listener's health routes alone, with `access`. */
export function healthRoutesForTest(access: MetricsAccess) {
  const { store, metrics } = parts();
  return healthRoutes({ store, sources: [], metrics, access });
}
