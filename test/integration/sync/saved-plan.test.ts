import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../../src/main.js";
import { createCloudClients } from "../../../src/openstack/index.js";
import { SavedPlanSchema } from "../../../src/sync/index.js";
import { loadEndpoints } from "../../env/endpoints.js";
import { captureIO } from "../../helpers/io.js";
import { testClouds } from "../openstack/clouds.js";
import { type Deployment, writeDeployment } from "./deployment.js";

// Terraform's saved plans, on the three real Keystones: plan --out, a change in one cloud, apply the file.
let dep: Deployment;
let dir: string;
beforeAll(async () => {
  dep = await writeDeployment({ people: 3 });
  dir = mkdtempSync(join(tmpdir(), "archway-saved-plan-"));
}, 60_000);
afterAll(async () => {
  await dep?.remove();
  rmSync(dir, { recursive: true, force: true });
});

const cli = async (...argv: string[]) => {
  const io = captureIO();
  const code = await runCli([...argv, "--config", dep.configFile], io);
  return { code, out: io.stdout(), err: io.stderr() };
};

describe("archway sync plan --out / sync apply FILE", () => {
  it("applies exactly the saved plan in the clouds that did not change and refuses the one that did", async () => {
    const file = join(dir, "plan.json");
    const planned = await cli("sync", "plan", "--out", file, "--detailed-exitcode");
    expect(planned.err).not.toMatch(/UNAVAILABLE/);
    expect(planned.code).toBe(2); // changes
    expect(planned.out).toMatch(/apply exactly this plan with: archway sync apply/);
    const saved = SavedPlanSchema.parse(JSON.parse(readFileSync(file, "utf8")));
    expect(saved.clouds.map((c) => c.cloudId).sort()).toEqual(["cloud-1", "cloud-2", "cloud-3"]);
    expect(saved.clouds.every((c) => c.operations.some((o) => o.text.includes("shared")))).toBe(true);

    // Someone makes Archway's domain by hand in cloud-2 after the review: its plan is no longer the saved one.
    const cloud2 = testClouds({ domain: dep.domain, endpoints: loadEndpoints() }).find((c) => c.id === "cloud-2")!;
    const clients = createCloudClients(cloud2);
    try {
      await clients.keystone.createDomain({ name: dep.domain });
    } finally {
      await clients.close();
    }

    const applied = await cli("sync", "apply", file, "--json");
    expect(applied.code).toBe(1);
    const report = JSON.parse(applied.out) as {
      planId: string;
      results: Array<{ cloudId: string; outcome: string; reason?: string }>;
    };
    expect(report.planId).toBe(saved.id);
    const byCloud = Object.fromEntries(report.results.map((r) => [r.cloudId, r]));
    expect(byCloud["cloud-1"]?.outcome).toBe("converged");
    expect(byCloud["cloud-3"]?.outcome).toBe("converged");
    expect(byCloud["cloud-2"]?.outcome).toBe("refused");
    expect(byCloud["cloud-2"]?.reason).toMatch(/cloud cloud-2 changed since plan .* was made/);

    // Nothing was written in cloud-2: the hand-made domain holds no project of Archway's.
    const again = createCloudClients(cloud2);
    try {
      const [domain] = await again.keystone.listDomains({ name: dep.domain });
      expect(await again.keystone.listProjects({ domainId: domain!.id })).toEqual([]);
    } finally {
      await again.close();
    }
    // A fresh plan says cloud-1 and cloud-3 are in sync.
    const after = await cli("sync", "plan", "--cloud", "cloud-1", "--detailed-exitcode");
    expect(after.code).toBe(0);
    expect(after.out).toMatch(/cloud-1: .*\(in sync\)/);
  }, 120_000);

  it("refuses a file that is not a saved plan with exit 2 and a clear line, touching nothing", async () => {
    const bad = join(dir, "bad.json");
    writeFileSync(bad, JSON.stringify({ format: "archway-sync-plan/1", id: "x", clouds: "all" }));
    const r = await cli("sync", "apply", bad);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/is not a saved plan: /);
    writeFileSync(bad, "{not json");
    expect((await cli("sync", "apply", bad)).code).toBe(2);
    expect((await cli("sync", "apply", join(dir, "missing.json"))).err).toMatch(/cannot read/);
    expect((await cli("sync", "apply", bad, "--cloud", "cloud-1")).code).toBe(2);
  }, 60_000);
});
