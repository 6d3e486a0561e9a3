import { readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo, Socket } from "node:net";
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
   * Graceful stop: stop accepting, close idle keep-alive connections at once, let in-flight requests finish for
   * up to `drainMs` (default 30 s), then answer 503 to those whose answer has not started and cut the rest.
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
  const inFlight = trackInFlight(http);
  let closing: Promise<void> | undefined;
  return {
    url: `${opts.tls ? "https" : "http"}://${host}:${port}`,
    port,
    close(drainMs = 30_000) {
      closing ??= new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          opts.log.warn({ drainMs, inFlight: inFlight.size }, "drain timed out; answering 503 to what is left");
          void answerUnavailable(inFlight).then(() => http.closeAllConnections());
        }, drainMs);
        timer.unref();
        http.close(() => {
          clearTimeout(timer);
          resolve();
        });
        // Idle keep-alive connections go now, and a connection goes as soon as its request is answered: an idle
        // process exits at once, a busy one when its last request is done.
        http.closeIdleConnections();
        for (const res of inFlight) res.shouldKeepAlive = false;
        // A request that comes on a kept-alive connection while draining: its connection closes once it is answered.
        http.on("request", (_req: IncomingMessage, res: ServerResponse) => {
          res.shouldKeepAlive = false;
        });
      });
      return closing;
    },
  };
}

/**
 * The responses not finished yet, found when asked through the open connections (each socket's current response):
 * connections are tracked as they open and close, not requests, so a kept-alive connection costs nothing per
 * request (a listener per request was a measurable share of a health probe).
 */
function trackInFlight(http: import("node:http").Server): {
  readonly size: number;
  [Symbol.iterator](): Iterator<ServerResponse>;
} {
  const sockets = new Set<Socket>();
  http.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  const current = (): ServerResponse[] => {
    const out: ServerResponse[] = [];
    for (const socket of sockets) {
      // Node's http server keeps the response being written on its socket (null between requests).
      const res = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
      if (res && !res.writableFinished) out.push(res);
    }
    return out;
  };
  return {
    get size() {
      return current().length;
    },
    [Symbol.iterator]: () => current()[Symbol.iterator](),
  };
}

const DRAIN_BODY = JSON.stringify({
  error: {
    code: 503,
    title: "Service Unavailable",
    identifier: "shutting_down",
    message: "Archway is shutting down and could not finish this request in time; retry it",
  },
});

/**
 * At the drain deadline: a request whose answer has not started gets a 503 (a client can retry it elsewhere, where
 * a cut connection leaves it guessing); one already streaming is cut. Resolves when the 503s are written (1 s at
 * most). The handler may still answer later (a proxied call returning): the response then ignores it.
 */
function answerUnavailable(inFlight: Iterable<ServerResponse>): Promise<void> {
  const written: Promise<void>[] = [];
  for (const res of inFlight) {
    if (res.headersSent || res.destroyed) {
      res.destroy();
      continue;
    }
    written.push(
      new Promise<void>((resolve) => {
        res.writeHead(503, {
          "content-type": "application/json",
          "retry-after": "1",
          connection: "close",
          "content-length": Buffer.byteLength(DRAIN_BODY),
        });
        res.end(DRAIN_BODY, () => resolve());
        res.once("close", () => resolve());
      }),
    );
    // The handler's own answer, if it comes, must not throw "headers already sent" into the log.
    res.writeHead = () => res;
    res.write = () => true;
    res.end = () => res;
  }
  const bound = new Promise<void>((resolve) => setTimeout(resolve, 1_000).unref());
  return Promise.race([Promise.all(written).then(() => undefined), bound]);
}
