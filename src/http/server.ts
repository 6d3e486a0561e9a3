import { readFileSync } from "node:fs";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { type ServerType, serve } from "@hono/node-server";
import type { Hono } from "hono";
import { z } from "zod";
import { type HttpLimits, HttpLimitsSchema } from "../config/index.js";
import type { Logger } from "../log/index.js";
import type { AppEnv } from "./env.js";
import { GatewayResponse } from "./response.js";

// The limit fields of any object (a whole `http` config section passes as it is), with the schema's defaults.
const LIMITS = z.object(HttpLimitsSchema.shape);

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

/**
 * Starts the app on `host:port`. `limits` (defaults: `http` in the config schema) bound how long a client may
 * take to send a request and its headers, how long an idle keep-alive connection stays, and how many connections
 * are open at once: a slow or idle client holds a socket for seconds, not forever.
 */
export async function startServer(
  app: Hono<AppEnv>,
  opts: {
    host: string;
    port: number;
    log: Logger;
    tls?: { certFile: string; keyFile: string };
    limits?: Partial<HttpLimits>;
  },
): Promise<RunningServer> {
  const limits = LIMITS.parse(opts.limits ?? {});
  // Node refuses a headers timeout above the request timeout; the request timeout bounds both anyway.
  const headersTimeout = Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs);
  const timeouts = {
    requestTimeout: limits.requestTimeoutMs,
    headersTimeout,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // Node checks the request and headers timeouts only this often (30 s by default, which let a slow client
    // hold its socket for 30 s past a 10 s limit): a fifth of the shorter timeout, between 100 ms and 1 s.
    connectionsCheckingInterval: Math.min(1_000, Math.max(100, Math.floor(headersTimeout / 5))),
  };
  // Responses are GatewayResponses, so headers set before the answer keep Node on its fast path.
  const base = { fetch: app.fetch, hostname: opts.host, port: opts.port };
  const options: Parameters<typeof serve>[0] = opts.tls
    ? {
        ...base,
        createServer: createHttpsServer,
        serverOptions: {
          ...timeouts,
          ServerResponse: GatewayResponse,
          cert: readFileSync(opts.tls.certFile),
          key: readFileSync(opts.tls.keyFile),
        },
      }
    : { ...base, serverOptions: { ...timeouts, ServerResponse: GatewayResponse } };
  const server = await new Promise<ServerType>((resolve, reject) => {
    const s = serve(options, () => resolve(s));
    s.once("error", reject);
  });
  const http = server as import("node:http").Server;
  // Past this many, Node closes a new connection as soon as it is accepted.
  http.maxConnections = limits.maxConnections;
  const { port } = server.address() as AddressInfo;
  const host = opts.host.includes(":") ? `[${opts.host}]` : opts.host;
  let closing: Promise<void> | undefined;
  return {
    url: `${opts.tls ? "https" : "http"}://${host}:${port}`,
    port,
    close(drainMs = 10_000) {
      closing ??= new Promise<void>((resolve) => {
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
