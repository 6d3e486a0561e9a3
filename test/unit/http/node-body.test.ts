import type { AddressInfo } from "node:net";
import { type ServerType, serve } from "@hono/node-server";
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isArchwayError } from "../../../src/errors.js";
import { type AppEnv, requestJson } from "../../../src/http/env.js";
import { createHttpMetrics } from "../../../src/http/index.js";
import { observeFetch } from "../../../src/http/middleware/observe.js";
import { createLogger } from "../../../src/log/index.js";

// Through a real Node server the body limit reads the declared length from Node's headers and the JSON body is
// read straight from Node's stream; both must keep the guarantees of Hono's own middleware and `c.req.json()`.
const app = new Hono<AppEnv>();
app.onError((err, c) =>
  isArchwayError(err) ? c.json({ code: err.code }, 413) : c.json({ code: err.constructor.name }, 400),
);
app.post("/echo", async (c) => c.json({ got: await requestJson(c) }));
observeFetch(app, {
  log: createLogger({ level: "silent" }),
  metrics: createHttpMetrics(),
  trustedProxies: [],
  bodyLimitBytes: 1024,
});

let server: ServerType;
let url: string;
beforeAll(async () => {
  server = await new Promise<ServerType>((ok) => {
    const s = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, () => ok(s));
  });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/echo`;
});
afterAll(() => new Promise<void>((ok) => server.close(() => ok())));

const post = (body: string | ReadableStream<Uint8Array>, headers: Record<string, string> = {}) =>
  fetch(url, { method: "POST", body, headers: { "content-type": "application/json", ...headers }, duplex: "half" });

describe("request bodies through the Node server", () => {
  it("parses a JSON body within the limit", async () => {
    const res = await post(JSON.stringify({ auth: { a: 1 } }));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ got: { auth: { a: 1 } } });
  });

  it("refuses a declared body over the limit before reading it", async () => {
    const res = await post(JSON.stringify({ x: "y".repeat(5000) }));
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ error: { code: "body_too_large" } });
  });

  it("refuses a streamed body over the limit, and parses a small streamed one", async () => {
    const stream = (text: string) =>
      new ReadableStream({
        start(c) {
          c.enqueue(new TextEncoder().encode(text));
          c.close();
        },
      });
    const big = await post(stream(`{"x":"${"y".repeat(4000)}"}`));
    expect(big.status).toBe(413);
    const small = await post(stream('{"x":1}'));
    expect(await small.json()).toEqual({ got: { x: 1 } });
  });

  it("answers invalid JSON as c.req.json() would: a SyntaxError", async () => {
    const res = await post("{not json");
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ code: "SyntaxError" });
  });
});
