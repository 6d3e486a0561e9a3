import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigSchema } from "../../../src/config/index.js";
import { createApp, type RunningServer, startServer } from "../../../src/http/index.js";
import { createLogger } from "../../../src/log/index.js";
import { MemoryStore } from "../../../src/store/index.js";
import { KeyRing, TokenService } from "../../../src/tokens/index.js";

// The observing layer through a real Node server, with request targets sent as written (fetch would normalize
// them first): the metrics label is the route Hono served, whatever shape the path arrived in.
let server: RunningServer;
const store = new MemoryStore();
beforeAll(async () => {
  const keys = new KeyRing({ store, algorithm: "ES256", rotateAfterMs: 86_400_000, overlapMs: 3_600_000 });
  const { app } = createApp({
    config: ConfigSchema.parse({}),
    log: createLogger({ level: "silent" }),
    store,
    sources: [],
    keys,
    tokens: new TokenService({ store, keys, issuer: "http://127.0.0.1" }),
  });
  server = await startServer(app, { host: "127.0.0.1", port: 0, log: createLogger({ level: "silent" }) });
});
afterAll(async () => {
  await server.close();
  await store.close();
});

function get(path: string): Promise<{ status: number; body: string; requestId?: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port: server.port, path, method: "GET" }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => {
        body += d;
      });
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, body, requestId: res.headers["x-request-id"] as string | undefined }),
      );
    });
    req.on("error", reject);
    req.end();
  });
}

describe("observing layer through Node", () => {
  it("labels a request by the route that served it, for plain, dotted and encoded paths alike", async () => {
    for (const path of ["/healthz", "/healthz?probe=1", "/x/../healthz", "/%68ealthz"]) {
      const res = await get(path);
      expect(res.status, path).toBe(200);
      expect(res.requestId).toMatch(/^[0-9a-f]{16}-[0-9a-z]+$/);
    }
    const metrics = (await get("/metrics")).body;
    expect(metrics).toContain(
      'archway_http_request_duration_seconds_count{method="GET",route="/healthz",status="200"} 4',
    );
    expect(metrics).not.toContain("..");
  });
});
