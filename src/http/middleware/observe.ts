import { randomUUID } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import { createMiddleware } from "hono/factory";
import type { Logger } from "../../log/index.js";
import { type AppEnv, requestHeader, setResponseHeader } from "../env.js";
import { type HttpMetrics, observeRequest } from "./metrics.js";

// An incoming id is kept only when it is short and plain, so it cannot inject into logs or headers.
const SAFE_ID = /^[A-Za-z0-9._:-]{1,64}$/;
// Probes are polled every few seconds by orchestrators; logging each at info would drown real traffic.
const QUIET = new Set(["/healthz", "/readyz", "/metrics"]);
const BODYLESS = new Set(["GET", "HEAD", "OPTIONS"]);

interface ObserveDeps {
  log: Logger;
  metrics: HttpMetrics;
  trustedProxies: readonly string[];
  /** The body-size guard, run only for requests that may carry a body. */
  limitBody: MiddlewareHandler<AppEnv>;
}

/**
 * The one middleware in front of every route: request id (honouring a safe incoming `X-Request-Id`), client
 * address, body limit, the duration histogram and one access-log line. One layer rather than four because
 * each Hono layer costs a few microseconds, which is most of a health probe.
 */
export function observe(deps: ObserveDeps) {
  const trusted = new Set(deps.trustedProxies);
  return createMiddleware<AppEnv>(async (c, next) => {
    const start = performance.now();
    const incoming = requestHeader(c, "x-request-id");
    const requestId = incoming && SAFE_ID.test(incoming) ? incoming : randomUUID();
    const peer = c.env?.incoming?.socket?.remoteAddress ?? "unknown";
    const clientIp = trusted.has(peer) ? (lastHop(requestHeader(c, "x-forwarded-for")) ?? peer) : peer;
    c.set("requestId", requestId);
    c.set("clientIp", clientIp);
    c.set("rootLog", deps.log);
    setResponseHeader(c, "X-Request-Id", requestId);
    try {
      const mayHaveBody =
        !BODYLESS.has(c.req.method) ||
        requestHeader(c, "content-length") !== undefined ||
        requestHeader(c, "transfer-encoding") !== undefined;
      await (mayHaveBody ? deps.limitBody(c, next) : next());
    } finally {
      const ms = performance.now() - start;
      observeRequest(deps.metrics, c, ms / 1000);
      const path = c.req.path;
      const level = QUIET.has(path) ? "debug" : "info";
      if (deps.log.isLevelEnabled(level)) {
        deps.log[level](
          { requestId, method: c.req.method, path, status: c.res.status, ms: Math.round(ms * 10) / 10, ip: clientIp },
          "request",
        );
      }
    }
  });
}

function lastHop(header: string | undefined): string | undefined {
  // The last hop appended by our trusted proxy is the only one we can believe.
  const hops = header
    ?.split(",")
    .map((h) => h.trim())
    .filter(Boolean);
  return hops?.[hops.length - 1];
}
