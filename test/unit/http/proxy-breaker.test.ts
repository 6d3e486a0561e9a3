import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CloudBreakers } from "../../../src/openstack/index.js";
import { proxyFixture } from "./proxy-fixture.js";

// The proxy's part of the per-cloud breaker: a 5xx or no answer counts against the cloud, and while its circuit is
// open the proxy answers 503 at once with Retry-After, naming the cloud, without asking the broker or the cloud.
let upstream: Server;
let upstreamUrl: string;
let upstreamCalls = 0;

beforeAll(async () => {
  upstream = createServer((_req, res) => {
    upstreamCalls++;
    res.writeHead(503, { "content-type": "application/json" });
    res.end('{"error":"busy"}');
  });
  await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => upstream.close(() => r())));

async function setup(breakers: CloudBreakers) {
  const { app, token, brokered } = await proxyFixture({ upstreamUrl, breakers });
  return { app, token, brokered: () => brokered.length };
}

describe("cloud proxy behind the cloud's breaker", () => {
  it("counts 5xx against the cloud, then answers 503 at once with Retry-After and the cloud's name", async () => {
    const breakers = new CloudBreakers({ settings: { failureThreshold: 2, openMs: 30_000 } });
    const { app, token, brokered } = await setup(breakers);
    const get = () => app.request("/clouds/c1/compute/v2.1/servers", { headers: { "x-auth-token": token } });
    expect((await get()).status).toBe(503);
    expect((await get()).status).toBe(503);
    expect(upstreamCalls).toBe(2);
    expect(breakers.get("c1").state).toBe("open");
    const refused = await get();
    expect(refused.status).toBe(503);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(29);
    expect(await refused.text()).toContain("cloud c1 is unavailable: Archway stopped calling it");
    // Neither the broker nor the cloud was asked.
    expect(upstreamCalls).toBe(2);
    expect(brokered()).toBe(2);
  });
});
