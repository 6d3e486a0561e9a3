import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Agent } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import { ExchangeTimeout, ExchangeTooLarge, exchange } from "../../../src/openstack/exchange.js";

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

async function serve(handler: Handler): Promise<string> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  closers.push(() => {
    server.closeAllConnections();
    server.close();
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function agent(connections = 4): Agent {
  const a = new Agent({ connections });
  closers.push(() => a.destroy());
  return a;
}

const get = (url: string, extra: Partial<Parameters<typeof exchange>[1]> = {}) => ({
  url: new URL(url),
  method: "GET",
  headers: { accept: "application/json" },
  timeoutMs: 2_000,
  ...extra,
});

describe("exchange", () => {
  it("reads a reply sent in several chunks, multi-byte characters split across them, and its headers", async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "application/json", "x-subject-token": "t1" });
      const body = Buffer.from(JSON.stringify({ name: "Zoë ✓" }));
      res.write(body.subarray(0, 11));
      setTimeout(() => res.end(body.subarray(11)), 10);
    });
    const reply = await exchange(agent(), get(`${url}/v3`));
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.text)).toEqual({ name: "Zoë ✓" });
    expect(reply.headers()["x-subject-token"]).toBe("t1");
  });

  it("follows redirects; a 303 after a POST becomes a GET, and a token is never sent to another origin", async () => {
    const seen: { path?: string; method?: string; token?: string | string[] }[] = [];
    const other = await serve((req, res) => {
      seen.push({ path: req.url, method: req.method, token: req.headers["x-auth-token"] });
      res.end("{}");
    });
    const url = await serve((req, res) => {
      seen.push({ path: req.url, method: req.method, token: req.headers["x-auth-token"] });
      if (req.url === "/a") res.writeHead(303, { location: "/b" }).end();
      else if (req.url === "/b") res.writeHead(307, { location: `${other}/c?x=1` }).end();
      else res.writeHead(404).end();
    });
    const reply = await exchange(
      agent(),
      get(`${url}/a`, { method: "POST", body: "{}", headers: { "x-auth-token": "secret", "content-type": "x" } }),
    );
    expect(reply.status).toBe(200);
    expect(seen).toEqual([
      { path: "/a", method: "POST", token: "secret" },
      { path: "/b", method: "GET", token: "secret" },
      { path: "/c?x=1", method: "GET", token: undefined },
    ]);
  });

  it("times out a reply whose body never ends, and a request still waiting for a socket", async () => {
    const url = await serve((req, res) => {
      res.writeHead(200);
      if (req.url === "/slow") res.write('{"a":');
      else res.end("{}");
    });
    const pool = agent(1);
    const slow = exchange(pool, get(`${url}/slow`, { timeoutMs: 150 }));
    // Queued behind the slow one on the pool's only socket: its own timeout applies from the start.
    const queued = exchange(pool, get(`${url}/fast`, { timeoutMs: 50 }));
    await expect(queued).rejects.toBeInstanceOf(ExchangeTimeout);
    await expect(slow).rejects.toMatchObject({ code: "ETIMEDOUT", message: "no reply within 150 ms" });
    // The aborted requests gave their socket back: the pool still works.
    expect((await exchange(pool, get(`${url}/fast`))).status).toBe(200);
  });

  it("cuts a reply longer than its limit, whether it ends or never stops; the pool still works", async () => {
    const url = await serve((req, res) => {
      res.writeHead(200);
      const piece = Buffer.alloc(64 * 1024, 120);
      if (req.url === "/small") return res.end("{}");
      if (req.url === "/big") return res.end(Buffer.alloc(300 * 1024, 120));
      // Never stops: one piece every millisecond until the client goes away.
      const timer = setInterval(() => res.write(piece), 1);
      res.on("close", () => clearInterval(timer));
    });
    const pool = agent(1);
    const limit = { maxBytes: 256 * 1024, timeoutMs: 5_000 };
    await expect(exchange(pool, get(`${url}/big`, limit))).rejects.toBeInstanceOf(ExchangeTooLarge);
    await expect(exchange(pool, get(`${url}/endless`, limit))).rejects.toMatchObject({
      code: "EREPLYTOOLARGE",
      message: "reply longer than 262144 bytes",
    });
    expect((await exchange(pool, get(`${url}/small`, limit))).text).toBe("{}");
  });

  it("passes a refused connection on with its code", async () => {
    const url = await serve((_req, res) => res.end());
    closers.pop()?.();
    await new Promise((r) => setTimeout(r, 20));
    await expect(exchange(agent(), get(url))).rejects.toMatchObject({ code: "ECONNREFUSED" });
  });
});
