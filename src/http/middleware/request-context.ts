import { randomUUID } from "node:crypto";
import { createMiddleware } from "hono/factory";
import type { Logger } from "../../log/index.js";
import type { AppEnv } from "../env.js";

// An incoming id is kept only when it is short and plain, so it cannot inject into logs or headers.
const SAFE_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/**
 * Sets `requestId` (honouring a safe incoming `X-Request-Id`), `clientIp` and a request-bound logger, and echoes
 * the id in the response.
 */
export function requestContext(deps: { log: Logger; trustedProxies: readonly string[] }) {
  const trusted = new Set(deps.trustedProxies);
  return createMiddleware<AppEnv>(async (c, next) => {
    const incoming = c.req.header("x-request-id");
    const requestId = incoming && SAFE_ID.test(incoming) ? incoming : randomUUID();
    const peer = c.env?.incoming?.socket?.remoteAddress ?? "unknown";
    c.set("requestId", requestId);
    c.set("clientIp", trusted.has(peer) ? (forwardedFor(c.req.header("x-forwarded-for")) ?? peer) : peer);
    c.set("log", deps.log.child({ requestId }));
    c.header("X-Request-Id", requestId);
    await next();
  });
}

function forwardedFor(header: string | undefined): string | undefined {
  // The last hop appended by our trusted proxy is the only one we can believe.
  const hops = header
    ?.split(",")
    .map((h) => h.trim())
    .filter(Boolean);
  return hops?.[hops.length - 1];
}
