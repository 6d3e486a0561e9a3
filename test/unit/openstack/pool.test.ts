import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { exchange } from "../../../src/openstack/exchange.js";
import { CloudPool } from "../../../src/openstack/pool.js";

const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

/** A server that counts the connections it accepted and the sockets closed on it. */
async function serve() {
  const counts = { connections: 0, closed: 0 };
  const server = createServer((_req, res) => setTimeout(() => res.end("{}"), 5));
  server.on("connection", (socket) => {
    counts.connections++;
    socket.on("close", () => counts.closed++);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  closers.push(() => {
    server.closeAllConnections();
    server.close();
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, counts };
}

const get = (url: string) => ({ url: new URL(url), method: "GET", headers: {}, timeoutMs: 2_000 });

describe("CloudPool", () => {
  it("keeps its sockets while busy, closes them all once idle, and opens new ones on the next call", async () => {
    const { url, counts } = await serve();
    const pool = new CloudPool(2, 50);
    closers.push(() => pool.close());
    await Promise.all(Array.from({ length: 6 }, () => exchange(pool, get(url))));
    // Six calls on two sockets: at most the pool's connections were opened.
    expect(counts.connections).toBeLessThanOrEqual(2);
    const opened = counts.connections;
    await new Promise((r) => setTimeout(r, 200));
    expect(counts.closed).toBe(opened);
    expect((await exchange(pool, get(url))).status).toBe(200);
    expect(counts.connections).toBe(opened + 1);
  });

  it("refuses calls once closed", async () => {
    const { url } = await serve();
    const pool = new CloudPool(2, 50);
    await pool.close();
    await expect(exchange(pool, get(url))).rejects.toThrow();
  });
});
