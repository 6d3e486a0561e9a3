import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadEndpoints } from "../../env/endpoints.js";
import { type FacadeHarness, startFacade } from "../tokens/harness.js";
import { type DelayingProxy, startDelayingProxy } from "./delaying-proxy.js";
import { get, scopedToken } from "./proxy-client.js";

// Issue 23, item 7: the first proxied request to a slow cloud took 101 s while the person's account was made on
// the fly. Here cloud-3's real Keystone sits behind a delaying proxy that holds every answer 4 s once the login is
// done; alice has no account there yet (a domain of this run), so her first request provisions her just in time.
const SLOW_MS = 4_000;
const WAIT_MS = 10_000; // the default provisionWaitMs

const env = loadEndpoints();
const realKeystone = new URL(env.keystones.find((k) => k.id === "cloud-3")?.authUrl ?? "").origin;

let keystone: DelayingProxy;
let h: FacadeHarness;
let token: string;
let keypairs: string;

beforeAll(async () => {
  keystone = await startDelayingProxy(realKeystone);
  h = await startFacade(18152, {
    authUrl: (id, real) => (id === "cloud-3" ? real.replace(realKeystone, keystone.origin) : real),
    // Slow, not down: each of its answers comes well within its timeout.
    cloudExtra: (id) => (id === "cloud-3" ? "    timeoutMs: 30000\n" : ""),
  });
  // The login reads cloud-3's catalog while its Keystone is still quick.
  token = await scopedToken(h.url, "alice", h.password, "cloud-3:u-alice");
  keypairs = `${h.url}/clouds/cloud-3/compute/v2.1/os-keypairs`;
}, 120_000);

afterAll(async () => {
  keystone?.setMode({ kind: "pass" });
  await h?.close();
  await keystone?.close();
});

describe("just-in-time provisioning through a slow cloud (issue 23.7)", () => {
  it("answers 503 'being provisioned' within the wait, runs one provisioning, and a later request goes through", async () => {
    keystone.setMode({ kind: "delay", ms: SLOW_MS });
    const before = keystone.requests().length;
    // Two first requests at once: both are told to come back, and only one provisioning runs.
    const [first, second] = await Promise.all([get(keypairs, token), get(keypairs, token)]);
    for (const res of [first, second]) {
      expect(res.status).toBe(503);
      expect(res.body).toContain("being provisioned in cloud-3");
      expect(JSON.parse(res.body).error.identifier).toBe("cloud_provisioning");
      expect(res.retryAfter).toBeDefined();
    }
    // The wait, plus the slow cloud's refusal of the first login and a lock wait for the second: seconds, not
    // the minutes the whole provisioning takes.
    expect(first.ms).toBeLessThan(WAIT_MS + 4 * SLOW_MS + 4_000);
    expect(Math.max(first.ms, second.ms)).toBeLessThan(2 * WAIT_MS + 4 * SLOW_MS + 4_000);

    // The provisioning went on in the background: a later request finds the account and reaches nova.
    const deadline = Date.now() + 240_000;
    let last = first;
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, Number(last.retryAfter ?? 5) * 1_000));
      last = await get(keypairs, token);
      if (last.status !== 503) break;
      expect(last.body).toContain("being provisioned in cloud-3");
    }
    console.info(`slow Keystone saw: ${keystone.requests().slice(before).join(", ")}`);
    expect(last.status).toBe(200);
    expect(JSON.parse(last.body)).toHaveProperty("keypairs");
    // The shadow user was created once, not once per request.
    expect(keystone.requests().filter((r) => r.startsWith("POST /v3/users")).length).toBe(1);
  }, 300_000);
});
