import { connect, type Socket } from "node:net";
import { Hono } from "hono";
import { afterEach, describe, expect, it } from "vitest";
import { ConfigSchema, type HttpLimits } from "../../../src/config/index.js";
import type { AppEnv } from "../../../src/http/env.js";
import { type RunningServer, startServer } from "../../../src/http/index.js";
import { createLogger } from "../../../src/log/index.js";

// Issue 22, item 7: a connection with complete headers and no body stayed open past 130 s, and nothing capped the
// number of connections. Each limit is replayed on a raw socket against small values; bounds are coarse (a 1 s
// limit must have closed the socket within 5 s), never fine timings.
const servers: RunningServer[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(servers.splice(0).map((s) => s.close(100)));
});

async function serve(limits: Partial<HttpLimits>): Promise<RunningServer> {
  const app = new Hono<AppEnv>();
  // The body read of a request cut by the timeout fails; nobody is left to answer.
  app.onError((_, c) => c.text("aborted", 400));
  app.get("/healthz", (c) => c.text("ok"));
  // Like the facade's login: the answer waits for the whole body.
  app.post("/echo", async (c) => c.text(await c.req.text()));
  const server = await startServer(app, {
    host: "127.0.0.1",
    port: 0,
    log: createLogger({ level: "silent" }),
    limits,
  });
  servers.push(server);
  return server;
}

/** A raw connection that records what it receives and when the server closed it. */
async function open(port: number) {
  const socket = connect({ host: "127.0.0.1", port });
  sockets.push(socket);
  let received = "";
  socket.setEncoding("utf8");
  socket.on("data", (d: string) => {
    received += d;
  });
  socket.on("error", () => {}); // a reset is one way of being closed
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  return { socket, closed, received: () => received };
}

/** Resolves true when `closed` settles within `ms`, false otherwise. */
function within(closed: Promise<void>, ms: number): Promise<boolean> {
  return Promise.race([closed.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);
}

describe("HTTP server limits", () => {
  it("closes a connection that sent complete headers and no body after the request timeout, with a 408", async () => {
    const server = await serve({ requestTimeoutMs: 1_000, headersTimeoutMs: 1_000 });
    const c = await open(server.port);
    c.socket.write("POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\n");
    expect(await within(c.closed, 5_000)).toBe(true);
    expect(c.received()).toMatch(/^HTTP\/1\.1 408 /);
  }, 10_000);

  it("closes a connection that sends its headers slowly after the headers timeout", async () => {
    const server = await serve({ requestTimeoutMs: 60_000, headersTimeoutMs: 1_000 });
    const c = await open(server.port);
    c.socket.write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    // One header line every 200 ms, never the blank line that ends them.
    let n = 0;
    const drip = setInterval(() => c.socket.writable && c.socket.write(`X-Slow-${n++}: 1\r\n`), 200);
    try {
      expect(await within(c.closed, 5_000)).toBe(true);
    } finally {
      clearInterval(drip);
    }
    expect(c.received()).toMatch(/^HTTP\/1\.1 408 /);
  }, 10_000);

  it("closes an idle keep-alive connection after the keep-alive timeout", async () => {
    const server = await serve({ keepAliveTimeoutMs: 1_000 });
    const c = await open(server.port);
    c.socket.write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    expect(await within(c.closed, 5_000)).toBe(true);
    // It was answered first, and kept alive until then (no `Connection: close`).
    expect(c.received()).toMatch(/^HTTP\/1\.1 200 /);
    expect(c.received()).toMatch(/keep-alive/i);
  }, 10_000);

  it("still answers a slow but complete request, and one whose body arrives in time", async () => {
    const server = await serve({ requestTimeoutMs: 3_000, headersTimeoutMs: 3_000 });
    const c = await open(server.port);
    c.socket.write("POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\nConnection: close\r\n\r\n");
    await new Promise((r) => setTimeout(r, 300));
    c.socket.write("hello");
    expect(await within(c.closed, 5_000)).toBe(true);
    expect(c.received()).toMatch(/^HTTP\/1\.1 200 [\s\S]*\r\n\r\nhello$/);
  }, 10_000);

  it("refuses connections past maxConnections, and accepts again once one closes", async () => {
    const server = await serve({ maxConnections: 2 });
    const held = [await open(server.port), await open(server.port)];
    for (const h of held) h.socket.write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    await expect.poll(() => held.every((h) => /^HTTP\/1\.1 200 /.test(h.received())), { timeout: 5_000 }).toBe(true);

    const third = await open(server.port);
    third.socket.write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    expect(await within(third.closed, 5_000)).toBe(true);
    expect(third.received()).toBe("");

    held[0]!.socket.destroy();
    await held[0]!.closed;
    await expect
      .poll(async () => (await fetch(`${server.url}/healthz`, { headers: { connection: "close" } })).status, {
        timeout: 5_000,
      })
      .toBe(200);
  }, 15_000);

  it("has sensible defaults in the config (30 s, 10 s, 5 s, 10,000 connections)", () => {
    expect(ConfigSchema.parse({}).http).toMatchObject({
      requestTimeoutMs: 30_000,
      headersTimeoutMs: 10_000,
      keepAliveTimeoutMs: 5_000,
      maxConnections: 10_000,
    });
    expect(ConfigSchema.safeParse({ http: { maxConnections: 0 } }).success).toBe(false);
  });
});
