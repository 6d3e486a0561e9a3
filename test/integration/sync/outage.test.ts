import { afterAll, describe, expect, it } from "vitest";
import { readStatus } from "../../../src/sync/index.js";
import { startService, stopService } from "../../env/control.js";
import { createHarness, desiredFor, type Person } from "./harness.js";

const h = createHarness({ timeoutMs: 3_000 });
let stopped = false;
afterAll(async () => {
  if (stopped) startService("keystone-2");
  await h.cleanup();
});

const people: Person[] = [
  { id: "test:o1", username: "o1", projects: [{ name: "ops", role: "member" }] },
  { id: "test:o2", username: "o2", projects: [{ name: "ops", role: "reader" }] },
];
const runAll = (runId: string) =>
  Promise.all(h.clouds.map((c) => h.engine().run(c.id, desiredFor(c.id, h.domain, people), { runId })));

describe("one Keystone down", () => {
  it("lets the others converge, reports that cloud degraded with the reason, and converges when it is back", async () => {
    stopService("keystone-2");
    stopped = true;
    const down = await runAll("outage-1");
    expect(down.map((r) => [r.cloudId, r.outcome])).toEqual([
      ["cloud-1", "converged"],
      ["cloud-2", "failed"],
      ["cloud-3", "converged"],
    ]);
    const status = await readStatus(h.store, "cloud-2");
    expect(status).toMatchObject({ degraded: true });
    expect(status?.lastError).toMatch(/cannot read the cloud: cloud cloud-2: keystone did not answer .*ECONNREFUSED/);
    expect(status?.lastSuccessAt).toBeUndefined();

    startService("keystone-2");
    stopped = false;
    const back = await runAll("outage-2");
    expect(back.map((r) => r.outcome)).toEqual(["converged", "converged", "converged"]);
    expect(back[0]?.plan?.operations).toEqual([]);
    expect(back[1]?.plan?.counts.create).toBeGreaterThan(0);
    expect(await readStatus(h.store, "cloud-2")).toMatchObject({ degraded: false, lastSuccessAt: expect.any(String) });
  });
});
