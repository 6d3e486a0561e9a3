import { describe, expect, it } from "vitest";
import { bearerMatches, createHttpMetrics, createMetricsApp, metricsAccess } from "../../../src/http/index.js";
import { healthRoutesForTest } from "./metrics-access.helpers.js";

describe("the metrics bearer token", () => {
  it("matches only the exact token, whatever its length", () => {
    const token = "s3cret-metrics-token-0123456789";
    expect(bearerMatches(`Bearer ${token}`, token)).toBe(true);
    expect(bearerMatches(`bearer ${token}`, token)).toBe(true);
    expect(bearerMatches(undefined, token)).toBe(false);
    expect(bearerMatches("", token)).toBe(false);
    expect(bearerMatches(token, token)).toBe(false);
    expect(bearerMatches(`Bearer ${token}x`, token)).toBe(false);
    expect(bearerMatches(`Bearer ${token.slice(0, -1)}`, token)).toBe(false);
    expect(bearerMatches(`Basic ${token}`, token)).toBe(false);
    expect(bearerMatches("Bearer ", "")).toBe(false);
  });

  it("is chosen from the configuration: open, bearer, or closed for a listener of its own", () => {
    expect(metricsAccess(undefined)).toEqual({ kind: "open" });
    expect(metricsAccess({})).toEqual({ kind: "open" });
    expect(metricsAccess({ listen: "127.0.0.1:9464" })).toEqual({ kind: "closed" });
    expect(metricsAccess({ listen: "127.0.0.1:9464", bearerToken: "t" })).toEqual({ kind: "bearer", token: "t" });
  });

  it("guards /metrics and the /readyz detail on the main listener", async () => {
    const app = healthRoutesForTest({ kind: "bearer", token: "right-token" });
    expect((await app.request("/metrics")).status).toBe(401);
    const wrong = await app.request("/metrics", { headers: { authorization: "Bearer wrong-token" } });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("www-authenticate")).toMatch(/^Bearer/);
    const right = await app.request("/metrics", { headers: { authorization: "Bearer right-token" } });
    expect(right.status).toBe(200);
    expect(await right.text()).toContain("archway_tokens_issued_total");
    expect(await (await app.request("/readyz")).json()).toEqual({ status: "ready" });
    const detail = await app.request("/readyz", { headers: { authorization: "Bearer right-token" } });
    expect(await detail.json()).toMatchObject({ status: "ready", checks: { "store:memory": { ok: true } } });
    const closed = healthRoutesForTest({ kind: "closed" });
    expect((await closed.request("/metrics")).status).toBe(404);
  });

  it("serves /metrics and the detailed /readyz on the metrics listener's app", async () => {
    const { store } = await import("./metrics-access.helpers.js").then((m) => m.parts());
    const app = createMetricsApp({ store, sources: [], metrics: createHttpMetrics({ defaultMetrics: false }) });
    expect((await app.request("/metrics")).status).toBe(200);
    expect(await (await app.request("/readyz")).json()).toMatchObject({ checks: { "store:memory": { ok: true } } });
    expect((await app.request("/v3/auth/tokens")).status).toBe(404);
  });
});
