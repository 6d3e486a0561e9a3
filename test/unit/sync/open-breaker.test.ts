import { describe, expect, it } from "vitest";
import { CloudSchema } from "../../../src/config/index.js";
import { CloudBreakers, createCloudClients } from "../../../src/openstack/index.js";
import { MemoryStore } from "../../../src/store/index.js";
import { emptyDesired, SyncEngine } from "../../../src/sync/index.js";

describe("sync and a cloud whose breaker is open", () => {
  it("fails that cloud at once, as that cloud's failure, without calling it", async () => {
    // Port 9 on loopback: nothing is called anyway, the breaker refuses first.
    const cloud = CloudSchema.parse({
      id: "hung",
      authUrl: "http://127.0.0.1:9/v3",
      admin: { username: "a", password: "b" },
    });
    const breakers = new CloudBreakers({ settings: { failureThreshold: 1, openMs: 60_000 } });
    breakers.get("hung").failure("no reply within 10000 ms");
    let calls = 0;
    const clients = createCloudClients(cloud, { breakers, onRequest: () => calls++ });
    const engine = new SyncEngine({
      clouds: [cloud],
      clients: () => clients,
      store: new MemoryStore(),
      audit: () => {},
      passwordSecret: "x".repeat(32),
      keyVersion: 1,
      ownership: { deploymentId: "t", adoptUnmarked: false },
      graceMs: 0,
      maxDeletes: { perCloud: 20, total: 200 },
    });
    const started = performance.now();
    const result = await engine.run("hung", emptyDesired("hung"), { runId: "r1" });
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(result.outcome).toBe("failed");
    expect(result.reason).toContain("cloud hung is unavailable: Archway stopped calling it");
    expect(result.status?.degraded).toBe(true);
    expect(calls).toBe(0);
    await clients.close();
  });
});
