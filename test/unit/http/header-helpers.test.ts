import type { AddressInfo } from "node:net";
import { type ServerType, serve } from "@hono/node-server";
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AppEnv, requestHeader, setResponseHeader } from "../../../src/http/env.js";

// The helpers read Node's parsed headers and write on the Node response; both must behave like Hono's own
// `c.req.header()` / `c.header()`, through a real server and through `app.request` alike.
const app = new Hono<AppEnv>();
app.get("/echo", (c) => {
  setResponseHeader(c, "x-subject-token", requestHeader(c, "x-subject-token") ?? "none");
  return c.json({ token: requestHeader(c, "x-auth-token") ?? null, same: c.req.header("x-auth-token") ?? null });
});

let server: ServerType;
let url: string;
beforeAll(async () => {
  server = await new Promise<ServerType>((ok) => {
    const s = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, () => ok(s));
  });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((ok) => server.close(() => ok())));

describe("request and response header helpers", () => {
  it("read a request header and set a response header through the Node server", async () => {
    const res = await fetch(`${url}/echo`, { headers: { "X-Auth-Token": "abc", "X-Subject-Token": "def" } });
    expect(res.headers.get("x-subject-token")).toBe("def");
    expect(res.headers.get("content-type")).toContain("application/json");
    expect(await res.json()).toEqual({ token: "abc", same: "abc" });
  });

  it("join a repeated header as Headers.get does, so a doubled token is never taken for one", async () => {
    const headers = new Headers([
      ["x-auth-token", "a"],
      ["x-auth-token", "b"],
    ]);
    const res = await fetch(`${url}/echo`, { headers });
    expect(await res.json()).toEqual({ token: "a, b", same: "a, b" });
  });

  it("answer the same without a Node server (app.request)", async () => {
    const res = await app.request("/echo", { headers: { "x-auth-token": "abc" } });
    expect(res.headers.get("x-subject-token")).toBe("none");
    expect(await res.json()).toEqual({ token: "abc", same: "abc" });
  });
});
