import type { HttpBindings } from "@hono/node-server";
import type { Logger } from "../log/index.js";

/** Hono environment shared by every route: node bindings plus per-request variables set by middleware. */
export interface AppEnv {
  Bindings: HttpBindings;
  Variables: {
    requestId: string;
    /** Logger with the request id bound. */
    log: Logger;
    /** The client's address (from the socket, or X-Forwarded-For when the peer is a trusted proxy). */
    clientIp: string;
  };
}
