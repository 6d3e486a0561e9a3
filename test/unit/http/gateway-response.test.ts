import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AppEnv, setResponseHeader } from "../../../src/http/env.js";
import { type RunningServer, startServer } from "../../../src/http/index.js";
import { createLogger } from "../../../src/log/index.js";

// Headers known before the answer are joined to the header block Node writes (GatewayResponse.presetHeader),
// instead of Node's progressive setHeader path: the answer must be the same, and nothing may leak from one
// request's answer into another's.
let shared: Response | undefined;
const app = new Hono<AppEnv>();
app.get("/json", (c) => {
  setResponseHeader(c, "x-subject-token", c.req.query("t") ?? "none");
  return c.json({ ok: true });
});
app.get("/shared", (c) => {
  const t = c.req.query("t");
  if (t) setResponseHeader(c, "x-subject-token", t);
  // Made once, after the server replaced the global Response with its lightweight one, and answered every time:
  // the header record behind it is the very object handed to writeHead.
  shared ??= new Response("shared", { headers: { "content-type": "text/plain", "x-subject-token": "upstream" } });
  return shared;
});
app.get("/progressive", (c) => {
  c.env.outgoing.setHeader("x-early", "1");
  setResponseHeader(c, "x-subject-token", "late");
  return c.text("ok");
});

let server: RunningServer;
beforeAll(async () => {
  server = await startServer(app, { host: "127.0.0.1", port: 0, log: createLogger({ level: "silent" }) });
});
afterAll(() => server.close());

describe("headers set before the answer", () => {
  it("are sent with the answer, with the route's own headers", async () => {
    const res = await fetch(`${server.url}/json?t=abc`);
    expect(res.headers.get("x-subject-token")).toBe("abc");
    expect(res.headers.get("content-type")).toContain("application/json");
    expect(await res.json()).toEqual({ ok: true });
  });

  it("replace a namesake in the answer, and never stick to a Response reused by the next request", async () => {
    const mine = await fetch(`${server.url}/shared?t=mine`);
    expect(mine.headers.get("x-subject-token")).toBe("mine");
    const next = await fetch(`${server.url}/shared`);
    expect(next.headers.get("x-subject-token")).toBe("upstream");
    expect(await next.text()).toBe("shared");
  });

  it("join headers set the Node way before them", async () => {
    const res = await fetch(`${server.url}/progressive`);
    expect(res.headers.get("x-early")).toBe("1");
    expect(res.headers.get("x-subject-token")).toBe("late");
  });
});
