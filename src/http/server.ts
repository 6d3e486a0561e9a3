import type { AddressInfo } from "node:net";
import { type ServerType, serve } from "@hono/node-server";
import type { Hono } from "hono";
import type { Logger } from "../log/index.js";
import type { AppEnv } from "./env.js";

/** A listening server. */
export interface RunningServer {
  /** `http://host:port` actually bound (port 0 resolves to the real one). */
  url: string;
  port: number;
  /**
   * Graceful stop: stop accepting, close idle keep-alive connections, let in-flight requests finish for up to
   * `drainMs`, then cut what is left.
   */
  close(drainMs?: number): Promise<void>;
}

/** Starts the app on `host:port`. */
export async function startServer(
  app: Hono<AppEnv>,
  opts: { host: string; port: number; log: Logger },
): Promise<RunningServer> {
  const server = await new Promise<ServerType>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, hostname: opts.host, port: opts.port }, () => resolve(s));
    s.once("error", reject);
  });
  const { port } = server.address() as AddressInfo;
  const host = opts.host.includes(":") ? `[${opts.host}]` : opts.host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    port,
    close(drainMs = 10_000) {
      closing ??= new Promise<void>((resolve) => {
        const http = server as import("node:http").Server;
        const timer = setTimeout(() => {
          opts.log.warn({ drainMs }, "drain timed out; closing remaining connections");
          http.closeAllConnections();
        }, drainMs);
        timer.unref();
        http.close(() => {
          clearTimeout(timer);
          resolve();
        });
        http.closeIdleConnections();
      });
      return closing;
    },
  };
}
