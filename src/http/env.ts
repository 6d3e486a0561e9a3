import type { HttpBindings } from "@hono/node-server";
import type { Context } from "hono";
import type { Logger } from "../log/index.js";

/** Hono environment shared by every route: node bindings plus per-request variables set by middleware. */
export interface AppEnv {
  Bindings: HttpBindings;
  Variables: {
    requestId: string;
    /** The client's address (from the socket, or X-Forwarded-For when the peer is a trusted proxy). */
    clientIp: string;
    /** The process logger; use {@link requestLog} to get one bound to the request id. */
    rootLog: Logger;
    /** Memoized by {@link requestLog}. */
    log?: Logger;
  };
}

/**
 * The logger for this request, with its id bound. Created on first use: most requests never log beyond the
 * access line, and a pino child per request is a measurable share of a fast route.
 */
export function requestLog(c: Context<AppEnv>): Logger {
  let log = c.get("log");
  if (!log) {
    log = c.get("rootLog").child({ requestId: c.get("requestId") });
    c.set("log", log);
  }
  return log;
}
