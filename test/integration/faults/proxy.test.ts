import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadEndpoints } from "../../env/endpoints.js";
import { type FacadeHarness, startFacade } from "../tokens/harness.js";
import { type DelayingProxy, startDelayingProxy } from "./delaying-proxy.js";
import { abandonedGet, eventually, get, openFds, scopedToken } from "./proxy-client.js";

// Issue 23, item 6: the proxy kept going after the client left. Before: 300 requests abandoned after 1 s held 128
// sockets to a hung nova (fds 23 -> 151) for ~3 min, and a fresh request then waited 116.7 s for its 504.
// Here cloud-2's real nova sits behind a delaying proxy (its Keystone too, through a proxy that rewrites the
// catalog to list it), and the proxy hangs on command: accepts and never answers.
const TIMEOUT_MS = 15_000;
const MAX_CONNECTIONS = 16;
const QUEUE_MS = 1_500;

const env = loadEndpoints();
const realNova = new URL(env.novas.find((n) => n.cloud === "cloud-2")?.url ?? "").origin;
const realKeystone = new URL(env.keystones.find((k) => k.id === "cloud-2")?.authUrl ?? "").origin;

let nova: DelayingProxy;
let keystone: DelayingProxy;
let h: FacadeHarness;
let token2: string;
let token1: string;
let keypairs2: string;
let keypairs1: string;

beforeAll(async () => {
  nova = await startDelayingProxy(realNova);
  keystone = await startDelayingProxy(realKeystone, {
    rewrite: [[realNova.replace("http://", ""), nova.origin.replace("http://", "")]],
  });
  h = await startFacade(18151, {
    authUrl: (id, real) => (id === "cloud-2" ? real.replace(realKeystone, keystone.origin) : real),
    cloudExtra: (id) =>
      id === "cloud-2"
        ? `    timeoutMs: ${TIMEOUT_MS}\n    proxy: { maxConnections: ${MAX_CONNECTIONS}, queueMs: ${QUEUE_MS} }\n`
        : "",
  });
  token2 = await scopedToken(h.url, "alice", h.password, "cloud-2:u-alice");
  token1 = await scopedToken(h.url, "alice", h.password, "cloud-1:u-alice");
  keypairs2 = `${h.url}/clouds/cloud-2/compute/v2.1/os-keypairs`;
  keypairs1 = `${h.url}/clouds/cloud-1/compute/v2.1/os-keypairs`;
  // The first request of each provisions alice just in time; both clouds answer while nothing hangs.
  expect((await get(keypairs2, token2)).status).toBe(200);
  expect((await get(keypairs1, token1)).status).toBe(200);
  expect(nova.requests().some((r) => r.includes("os-keypairs"))).toBe(true);
}, 180_000);

afterAll(async () => {
  await h?.close();
  await nova?.close();
  await keystone?.close();
});

describe("a hung cloud behind the proxy (issue 23.6)", () => {
  it("300 requests abandoned after 1 s leave no socket to the hung cloud and the fds back near baseline", async () => {
    // Idle keep-alive sockets of the warm-up end within the pool's 4 s: count from a quiet start.
    expect(await eventually(() => nova.openSockets() === 0, 8_000)).toBe(true);
    const baseline = openFds();
    nova.setMode({ kind: "hang" });
    nova.resetPeak();
    await Promise.all(Array.from({ length: 300 }, () => abandonedGet(keypairs2, token2, 1_000)));
    // At most the cloud's own bound was ever held, however many clients asked.
    expect(nova.peakSockets()).toBeLessThanOrEqual(MAX_CONNECTIONS);
    expect(nova.peakSockets()).toBeGreaterThan(0);
    // Every upstream socket closes soon (well before the cloud's 15 s timeout would end them), and within seconds
    // the process's fds are back near where they were (measured: the in-flight ones' last fds close ~4 s later).
    // Measured ~4 s on a loaded 2-core machine, with the cloud's timeout at 15 s: the abort, not the timeout.
    expect(await eventually(() => nova.openSockets() === 0, 8_000)).toBe(true);
    expect(await eventually(() => openFds() <= baseline + 10, 8_000)).toBe(true);
    console.info(`fds: baseline ${baseline}, after ${openFds()}; peak sockets at the hung nova ${nova.peakSockets()}`);
  }, 60_000);

  it("answers a fresh request to the hung cloud with 504 within the cloud's timeoutMs, not minutes", async () => {
    nova.setMode({ kind: "hang" });
    const res = await get(keypairs2, token2);
    expect(res.status).toBe(504);
    expect(res.body).toContain("cloud cloud-2");
    expect(res.ms).toBeLessThan(TIMEOUT_MS + 4_000);
  }, 60_000);

  it("keeps a healthy cloud fast and answers 503 with Retry-After quickly while the hung cloud's pool is full", async () => {
    nova.setMode({ kind: "hang" });
    // Fill every connection the proxy allows to cloud-2; these end in 504s after its timeout.
    const held = Array.from({ length: MAX_CONNECTIONS }, () => get(keypairs2, token2));
    expect(await eventually(() => nova.openSockets() >= MAX_CONNECTIONS, 4_000)).toBe(true);

    const healthy = await get(keypairs1, token1);
    expect(healthy.status).toBe(200);
    expect(healthy.ms).toBeLessThan(3_000);

    const refused = await get(keypairs2, token2);
    expect(refused.status).toBe(503);
    expect(refused.retryAfter).toBeDefined();
    expect(refused.body).toContain("cloud cloud-2 is saturated");
    expect(JSON.parse(refused.body).error.identifier).toBe("cloud_saturated");
    expect(refused.ms).toBeLessThan(QUEUE_MS + 2_500);

    const ends = await Promise.all(held);
    expect(ends.map((r) => r.status)).toEqual(Array(MAX_CONNECTIONS).fill(504));
    // 16 timeouts in a row opened cloud-2's circuit breaker (docs/operations.md): while it is open the proxy answers
    // 503 at once, naming the cloud; once the cloud answers again, the breaker's next probe (within its open time,
    // 5 s the first time) lets requests through again.
    const open = await get(keypairs2, token2);
    expect(open.status).toBe(503);
    expect(open.body).toContain("cloud cloud-2 is unavailable");
    nova.setMode({ kind: "pass" });
    let status = 0;
    const deadline = Date.now() + 15_000;
    while (status !== 200 && Date.now() < deadline) {
      status = (await get(keypairs2, token2)).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 500));
    }
    expect(status).toBe(200);
  }, 60_000);
});
