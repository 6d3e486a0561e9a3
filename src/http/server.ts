import { readFileSync } from "node:fs";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { type ServerType, serve } from "@hono/node-server";
import type { Hono } from "hono";
import type { Logger } from "../log/index.js";
import type { AppEnv } from "./env.js";
import { GatewayResponse } from "./response.js";

/** A listening server. */
export interface RunningServer {
  /** `http(s)://host:port` actually bound (port 0 resolves to the real one). */
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
  opts: { host: string; port: number; log: Logger; tls?: { certFile: string; keyFile: string } },
): Promise<RunningServer> {
  // Responses are GatewayResponses, so headers set before the answer keep Node on its fast path.
  const base = { fetch: app.fetch, hostname: opts.host, port: opts.port };
  const options: Parameters<typeof serve>[0] = opts.tls
    ? {
        ...base,
        createServer: createHttpsServer,
        serverOptions: {
          ServerResponse: GatewayResponse,
          cert: readFileSync(opts.tls.certFile),
          key: readFileSync(opts.tls.keyFile),
        },
      }
    : { ...base, serverOptions: { ServerResponse: GatewayResponse } };
  const server = await new Promise<ServerType>((resolve, reject) => {
    const s = serve(options, () => resolve(s));
    s.once("error", reject);
  });
  const { port } = server.address() as AddressInfo;
  const host = opts.host.includes(":") ? `[${opts.host}]` : opts.host;
  let closing: Promise<void> | undefined;
  return {
    url: `${opts.tls ? "https" : "http"}://${host}:${port}`,
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
