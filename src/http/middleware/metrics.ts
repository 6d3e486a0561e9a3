import type { Context } from "hono";
import { matchedRoutes } from "hono/route";
import { collectDefaultMetrics, Histogram, Registry } from "prom-client";

type Labels = "method" | "route" | "status";

/** A metrics registry with process metrics and the HTTP request duration histogram. */
export interface HttpMetrics {
  registry: Registry;
  requestDuration: Histogram<Labels>;
  /** Label children by `method route status`: looking labels up per request costs more than observing. */
  children: Map<string, ReturnType<Histogram<Labels>["labels"]>>;
}

/** Creates a fresh registry (one per app, so tests and several apps in one process do not collide). */
export function createHttpMetrics(): HttpMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "archway_" });
  const requestDuration = new Histogram({
    name: "archway_http_request_duration_seconds",
    help: "HTTP request duration by method, matched route and status",
    labelNames: ["method", "route", "status"] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  return { registry, requestDuration, children: new Map() };
}

/**
 * Observes one request. The route label is the matched pattern (`/clouds/:cloud/*`), never the raw path, so
 * label cardinality stays bounded whatever clients send.
 */
export function observeRequest(metrics: HttpMetrics, c: Context, seconds: number): void {
  const method = c.req.method;
  const route = handlerRoute(c);
  const status = String(c.res.status);
  const key = `${method} ${route} ${status}`;
  let child = metrics.children.get(key);
  if (!child) {
    child = metrics.requestDuration.labels(method, route, status);
    metrics.children.set(key, child);
  }
  child.observe(seconds);
}

/** The pattern of the handler that answered: the last matched route that is not a middleware (`use`). */
function handlerRoute(c: Context): string {
  const routes = matchedRoutes(c);
  for (let i = routes.length - 1; i >= 0; i--) {
    const r = routes[i];
    if (r && r.method !== "ALL") return r.path;
  }
  return "unmatched";
}
