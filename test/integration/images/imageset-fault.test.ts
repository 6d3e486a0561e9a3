import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TransferProgress } from "../../../src/images/index.js";
import type { GlanceClient } from "../../../src/openstack/index.js";
import { type CompiledImageSet, compileManifest, ImageSetSchema } from "../../../src/policy/manifests/index.js";
import { emptyDesired } from "../../../src/sync/index.js";
import { ImageDistributor } from "../../../src/sync/resources/image/index.js";
import { IMAGE_DEPLOYMENT } from "../../../src/sync/resources/image/marks.js";
import { LEFTOVER_AGE_MS } from "../../../src/sync/resources/image/plan.js";
import { loadEndpoints } from "../../env/endpoints.js";
import { createHarness } from "../sync/harness.js";
import { randomFile, testenv } from "./helpers.js";

// Issue #28 through the image resource: a Glance stopped half-way through a sync run. That cloud's run fails its
// transfer (the others converge); after the Glance is back, the next run completes it and no broken image stays.
const h = createHarness({ timeoutMs: 15_000 });
const victim = loadEndpoints().glances[1];
const owner = (cloudId: string) => {
  const cloud = h.clouds.find((c) => c.id === cloudId);
  if (!cloud) throw new Error(`no cloud ${cloudId}`);
  return h.clients(cloud);
};
const glance = (cloudId: string): GlanceClient => owner(cloudId).images();
let stopping: Promise<void> | undefined;
const onProgress = (p: TransferProgress) => {
  if (!stopping && victim && p.cloudId === victim.cloud && p.phase === "uploading" && (p.bytes ?? 0) > 12 << 20)
    stopping = testenv("stop", victim.name);
};
const distributor = new ImageDistributor({
  store: h.store,
  clients: owner,
  windowMs: 500,
  // ~8 MiB/s per cloud: the 40 MiB take ~5 s, long enough to stop a Glance half-way; few retries, so the stopped
  // cloud's run gives up while its Glance is down.
  transfers: { caps: { perCloud: 8 << 20 }, backoff: { attempts: 2, baseMs: 300, maxMs: 1_000 }, onProgress },
});
const engine = h.engine({ images: distributor });
let file: Awaited<ReturnType<typeof randomFile>>;

async function sync(set: CompiledImageSet) {
  const runId = `run-${randomBytes(3).toString("hex")}`;
  return Promise.all(h.clouds.map((c) => engine.run(c.id, { ...emptyDesired(c.id), manifests: [set] }, { runId })));
}

describe("a Glance stopped in the middle of an ImageSet run", () => {
  beforeAll(async () => {
    file = await randomFile(40);
  }, 60_000);

  afterAll(async () => {
    await stopping?.catch(() => {});
    if (victim) await testenv("start", victim.name).catch(() => {});
    for (const c of h.clouds) {
      const g = glance(c.id);
      const mine = await g.list({ properties: { [IMAGE_DEPLOYMENT]: h.domain } }).catch(() => []);
      for (const i of mine) await g.delete(i.id, { unprotect: true }).catch(() => {});
    }
    file?.remove();
    await h.cleanup();
  }, 180_000);

  it("the others converge; the next run after it returns completes it, no broken image left", async () => {
    if (!victim) throw new Error("needs three glances");
    const name = `fault-${h.domain.slice(-8)}`;
    const doc = ImageSetSchema.parse({
      apiVersion: "archway.dev/v1",
      kind: "ImageSet",
      metadata: { name: "fault" },
      spec: { images: [{ name, source: { file: file.path }, diskFormat: "raw" }] },
    });
    const set = compileManifest(doc, h.clouds, () => {}, "fault.yaml:1") as CompiledImageSet;
    try {
      const first = await sync(set);
      expect(stopping).toBeDefined();
      await stopping;
      const byCloud = Object.fromEntries(first.map((r) => [r.cloudId, r.outcome]));
      for (const c of h.clouds) if (c.id !== victim.cloud) expect(byCloud[c.id]).toBe("converged");
      expect(byCloud[victim.cloud]).not.toBe("converged");
    } finally {
      await stopping?.catch(() => {});
      await testenv("start", victim.name);
    }
    // Whatever the cut upload left (a `queued` image of Archway's), it is not active.
    const ours = () => glance(victim.cloud).list({ properties: { [IMAGE_DEPLOYMENT]: h.domain } });
    expect((await ours()).filter((i) => i.status === "active")).toEqual([]);
    // The next run, once the leftover is past its grace (the clock moved on), completes the cloud and cleans up.
    h.clock.now = new Date(Date.now() + LEFTOVER_AGE_MS + 60_000);
    const second = await sync(set);
    expect(second.map((r) => [r.cloudId, r.outcome])).toEqual(h.clouds.map((c) => [c.id, "converged"]));
    for (const c of h.clouds) {
      const list = await glance(c.id).list({ properties: { [IMAGE_DEPLOYMENT]: h.domain } });
      expect(list.map((i) => [c.id, i.name, i.status, i.os_hash_value])).toEqual([[c.id, name, "active", file.sha512]]);
    }
  }, 240_000);
});
