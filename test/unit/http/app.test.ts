import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createAudit } from "../../../src/audit/index.js";
import { ConfigSchema } from "../../../src/config/index.js";
import { ArchwayError } from "../../../src/errors.js";
import { noteRequest } from "../../../src/http/env.js";
import { createApp } from "../../../src/http/index.js";
import type { IdentitySource } from "../../../src/identity/index.js";
import { createLogger } from "../../../src/log/index.js";
import { MemoryStore } from "../../../src/store/index.js";
import { KeyRing, TokenService } from "../../../src/tokens/index.js";

interface Json {
  status?: string;
  checks?: Record<string, { ok: boolean; error?: string }>;
  error?: { code: string; message: string; requestId?: string };
}
const json = async (res: Response) => (await res.json()) as Json;

function build(opts: { sources?: IdentitySource[]; bodyLimitBytes?: number; bearerToken?: string } = {}) {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  const config = ConfigSchema.parse({
    http: { bodyLimitBytes: opts.bodyLimitBytes ?? 1024 },
    ...(opts.bearerToken ? { metrics: { bearerToken: opts.bearerToken } } : {}),
  });
  const log = createLogger({ level: "debug", destination });
  const store = new MemoryStore();
  const keys = new KeyRing({ store, algorithm: "ES256", rotateAfterMs: 86_400_000, overlapMs: 3_600_000 });
  const tokens = new TokenService({ store, keys, issuer: "http://127.0.0.1:8080" });
  const { app } = createApp({ config, log, store, sources: opts.sources ?? [], keys, tokens });
  app.post("/echo", async (c) => c.json(await c.req.json()));
  // A route that knows who and where, and audits something deep down (after awaits), as the facade and proxy do.
  const audit = createAudit({ store, log });
  app.get("/acting", async (c) => {
    noteRequest(c, { person: "demo:alice", cloud: "cloud-2" });
    await new Promise((r) => setTimeout(r, 5));
    await audit({ type: "test.acted", actor: "alice" });
    return c.json({ ok: true });
  });
  app.get("/boom", () => {
    throw new Error("database password=hunter2 exploded");
  });
  app.get("/refuse", () => {
    throw new ArchwayError("cloud_unavailable", "cloud cloud-2: Keystone did not answer in 5 s", 503);
  });
  return { app, lines, store };
}

const downSource: IdentitySource = {
  id: "corp-ldap",
  type: "ldap",
  ping: async () => {
    throw new Error("connect ECONNREFUSED 127.0.0.1:13389");
  },
  close: async () => {},
};

describe("HTTP foundation", () => {
  it("answers /healthz", async () => {
    const { app } = build();
    const res = await app.request("/healthz");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok" });
  });

  it("reports readiness per dependency and 503 when one is down (detail only with the metrics token)", async () => {
    const ok = await build().app.request("/readyz");
    expect(ok.status).toBe(200);
    const down = await build({ sources: [downSource] }).app.request("/readyz");
    expect(down.status).toBe(503);
    // The public answer names no dependency and no error.
    expect(await json(down)).toEqual({ status: "not_ready" });
    const detailed = await build({ sources: [downSource], bearerToken: "t0ken-for-metrics" }).app.request("/readyz", {
      headers: { authorization: "Bearer t0ken-for-metrics" },
    });
    expect(detailed.status).toBe(503);
    const body = await json(detailed);
    expect(body.status).toBe("not_ready");
    expect(body.checks?.["store:memory"]?.ok).toBe(true);
    expect(body.checks?.["source:corp-ldap"]).toMatchObject({
      ok: false,
      error: expect.stringContaining("ECONNREFUSED"),
    });
  });

  it("exposes the request duration histogram by route and status on /metrics", async () => {
    const { app } = build();
    await app.request("/healthz");
    await app.request("/healthz?probe=2");
    await app.request("/no/such/route");
    const text = await (await app.request("/metrics")).text();
    const series = 'method="GET",route="/healthz",status="200"';
    expect(text).toContain(`archway_http_request_duration_seconds_bucket{le="+Inf",${series}} 2`);
    expect(text).toContain(`archway_http_request_duration_seconds_count{${series}} 2`);
    expect(text).toMatch(new RegExp(`archway_http_request_duration_seconds_sum\\{${series}\\} [0-9.e-]+\n`));
    expect(text).toContain("# TYPE archway_http_request_duration_seconds histogram");
    expect(text).toMatch(
      /archway_http_request_duration_seconds_bucket\{le="[^"]+",method="GET",route="\/healthz",status="200"\}/,
    );
    expect(text).toMatch(/route="unmatched",status="404"/);
    // Node and process metrics under their standard names, without Archway's prefix.
    expect(text).toMatch(/^process_cpu_user_seconds_total /m);
    expect(text).not.toMatch(/archway_process_/);
  });

  it("publishes the signing keys as a JWKS", async () => {
    const { app } = build();
    const res = await app.request("/.well-known/jwks.json");
    expect(res.status).toBe(200);
    const jwks = (await res.json()) as { keys: { kid: string; kty: string; d?: string }[] };
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ kty: "EC", kid: expect.any(String) });
    expect(jwks.keys[0]?.d).toBeUndefined();
  });

  it("gives every error one JSON shape with a code, a message and the request id", async () => {
    const { app } = build();
    const res = await app.request("/no/such/route", { headers: { "X-Request-Id": "abc-123" } });
    expect(res.status).toBe(404);
    expect(res.headers.get("x-request-id")).toBe("abc-123");
    expect(await res.json()).toEqual({
      error: { code: "not_found", message: "no route for GET /no/such/route", requestId: "abc-123" },
    });
    const refused = await app.request("/refuse");
    expect(refused.status).toBe(503);
    expect((await json(refused)).error?.code).toBe("cloud_unavailable");
  });

  it("replaces an unsafe incoming request id", async () => {
    const { app } = build();
    const res = await app.request("/healthz", { headers: { "X-Request-Id": "evil id with spaces;<script>" } });
    expect(res.headers.get("x-request-id")).toMatch(/^[0-9a-f]{16}-[0-9a-z]+$/);
  });

  it("refuses a body over the limit with 413, whether declared or streamed", async () => {
    const { app } = build({ bodyLimitBytes: 1024 });
    const declared = await app.request("/echo", {
      method: "POST",
      headers: { "content-type": "application/json", "content-length": "5000" },
      body: JSON.stringify({ x: "y".repeat(5000) }),
    });
    expect(declared.status).toBe(413);
    expect((await json(declared)).error?.code).toBe("body_too_large");
    const stream = new ReadableStream({
      start(c) {
        c.enqueue(new TextEncoder().encode(`{"x":"${"y".repeat(4000)}"}`));
        c.close();
      },
    });
    const streamed = await app.request("/echo", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: stream,
      duplex: "half",
    } as RequestInit & { duplex: string });
    expect(streamed.status).toBe(413);
  });

  it("answers malformed JSON with 400 invalid_json, not a crash", async () => {
    const { app } = build();
    const res = await app.request("/echo", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{nope",
    });
    expect(res.status).toBe(400);
    expect((await json(res)).error?.code).toBe("invalid_json");
  });

  it("hides unexpected errors behind a generic 500 and logs them with the request id", async () => {
    const { app, lines } = build();
    const res = await app.request("/boom", { headers: { "X-Request-Id": "req-42" } });
    expect(res.status).toBe(500);
    const body = await json(res);
    expect(body.error).toEqual({
      code: "internal_error",
      message: "internal error; see the server log",
      requestId: "req-42",
    });
    expect(JSON.stringify(body)).not.toContain("hunter2");
    await new Promise((r) => setTimeout(r, 50));
    expect(lines.join("")).toMatch(/"requestId":"req-42".*request failed/);
  });

  it("names the person and the cloud in the access log, and the request id in audit events", async () => {
    const { app, lines, store } = build();
    const res = await app.request("/acting", { headers: { "X-Request-Id": "req-acting-7" } });
    expect(res.status).toBe(200);
    await new Promise((r) => setTimeout(r, 50));
    const access = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === "request");
    expect(access).toMatchObject({ requestId: "req-acting-7", person: "demo:alice", cloud: "cloud-2", status: 200 });
    const [event] = await store.read("audit", { limit: 10, latest: true });
    expect(event?.data).toMatchObject({ type: "test.acted", requestId: "req-acting-7" });
    // Outside a request, an audit event has no request id.
    await createAudit({ store, log: createLogger({ level: "silent" }) })({ type: "test.background" });
    const events = await store.read("audit", { limit: 10, latest: true });
    expect(events.at(-1)?.data.requestId).toBeUndefined();
  });
});
