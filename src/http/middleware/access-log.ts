import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env.js";

// Probes are polled every few seconds by orchestrators; logging each at info would drown real traffic.
const QUIET = new Set(["/healthz", "/readyz", "/metrics"]);

/** One structured line per request: method, path (no query: it may carry codes or tokens), status, duration. */
export function accessLog() {
  return createMiddleware<AppEnv>(async (c, next) => {
    const start = performance.now();
    await next();
    const path = c.req.path;
    const level = QUIET.has(path) ? "debug" : "info";
    c.var.log[level](
      {
        method: c.req.method,
        path,
        status: c.res.status,
        ms: Math.round((performance.now() - start) * 10) / 10,
        ip: c.var.clientIp,
      },
      "request",
    );
  });
}
