import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { GlanceClient } from "../../../src/openstack/index.js";
import type { DesiredProject } from "../../../src/policy/index.js";
import { type CompiledImageSet, compileManifest, ImageSetSchema } from "../../../src/policy/manifests/index.js";
import { emptyDesired } from "../../../src/sync/index.js";
import { ImageDistributor } from "../../../src/sync/resources/image/index.js";
import { IMAGE_DEPLOYMENT } from "../../../src/sync/resources/image/marks.js";
import { createHarness } from "../sync/harness.js";

// Issue #28: the members of a `shared` image follow the projects Archway grants, every run, in the three real
// Glances (a 1 MiB image: this is about members, not bytes).
const h = createHarness({ timeoutMs: 30_000 });
const owner = (cloudId: string) => {
  const cloud = h.clouds.find((c) => c.id === cloudId);
  if (!cloud) throw new Error(`no cloud ${cloudId}`);
  return h.clients(cloud);
};
const glance = (cloudId: string): GlanceClient => owner(cloudId).images();
const distributor = new ImageDistributor({
  store: h.store,
  clients: owner,
  windowMs: 500,
  transfers: { backoff: { attempts: 2, baseMs: 300, maxMs: 1_000 } },
});
const engine = h.engine({ images: distributor });
const dir = mkdtempSync(join(tmpdir(), "archway-members-"));
const file = join(dir, "tiny.raw");
writeFileSync(file, randomBytes(1 << 20));
const name = `shared-${h.domain.slice(-8)}`;

const set = (() => {
  const doc = ImageSetSchema.parse({
    apiVersion: "archway.dev/v1",
    kind: "ImageSet",
    metadata: { name: "shared" },
    spec: { images: [{ name, source: { file }, diskFormat: "raw", visibility: "shared" }] },
  });
  const problems: string[] = [];
  const compiled = compileManifest(doc, h.clouds, (_p, m) => problems.push(m), "shared.yaml:1");
  if (problems.length > 0) throw new Error(problems.join("; "));
  return compiled as CompiledImageSet;
})();

const project = (p: string): DesiredProject => ({
  name: p,
  domain: h.domain,
  description: `project ${p}`,
  tags: [],
  create: true,
  policies: ["test-policy"],
});

/** One run of every cloud at once, granting these projects. */
async function sync(...projects: string[]) {
  const runId = `run-${randomBytes(3).toString("hex")}`;
  return Promise.all(
    h.clouds.map((c) =>
      engine.run(c.id, { ...emptyDesired(c.id), projects: projects.map(project), manifests: [set] }, { runId }),
    ),
  );
}

async function theImage(cloudId: string) {
  const list = await glance(cloudId).list({ properties: { [IMAGE_DEPLOYMENT]: h.domain, archway_image: name } });
  expect(list).toHaveLength(1);
  return list[0] as NonNullable<(typeof list)[number]>;
}

async function projectId(cloudId: string, p: string): Promise<string> {
  const ks = owner(cloudId).keystone;
  const [d] = await ks.listDomains({ name: h.domain });
  const [found] = await ks.listProjects({ domainId: d?.id, name: p });
  if (!found) throw new Error(`no project ${p} in ${cloudId}`);
  return found.id;
}

describe("members of a shared image follow the grants", () => {
  afterAll(async () => {
    for (const c of h.clouds) {
      const g = glance(c.id);
      const mine = await g.list({ properties: { [IMAGE_DEPLOYMENT]: h.domain } }).catch(() => []);
      for (const i of mine) await g.delete(i.id, { unprotect: true }).catch(() => {});
    }
    rmSync(dir, { recursive: true, force: true });
    await h.cleanup();
  }, 60_000);

  it("shared with the granted projects; a hand-added member stays; an ungranted Archway project is removed", async () => {
    const first = await sync("ops", "dev");
    expect(first.map((r) => [r.cloudId, r.outcome, r.apply?.failed])).toEqual(
      h.clouds.map((c) => [c.id, "converged", []]),
    );
    const hand: Record<string, string> = {};
    for (const c of h.clouds) {
      const img = await theImage(c.id);
      expect(img.visibility).toBe("shared");
      const [ops, dev] = [await projectId(c.id, "ops"), await projectId(c.id, "dev")];
      const members = await glance(c.id).members(img.id);
      expect(members.map((m) => [m.member_id, m.status]).sort()).toEqual(
        [
          [ops, "accepted"],
          [dev, "accepted"],
        ].sort(),
      );
      // A project made by hand (not Archway's), shared by hand.
      const ks = owner(c.id).keystone;
      const [d] = await ks.listDomains({ name: h.domain });
      const made = await ks.createProject({ name: `hand-${name}`, domain_id: d?.id ?? "" });
      hand[c.id] = made.id;
      await glance(c.id).share(img.id, made.id);
    }

    // dev is no longer granted (its project stays: Archway does not delete projects, it stops sharing with them).
    const second = await sync("ops");
    expect(second.map((r) => [r.cloudId, r.apply?.failed])).toEqual(h.clouds.map((c) => [c.id, []]));
    for (const r of second)
      expect(r.plan?.operations.filter((o) => o.kind.endsWith("Image")).map((o) => o.kind)).toEqual(["unshareImage"]);
    for (const c of h.clouds) {
      const img = await theImage(c.id);
      const members = await glance(c.id).members(img.id);
      expect(members.map((m) => m.member_id).sort()).toEqual([await projectId(c.id, "ops"), hand[c.id]].sort());
    }

    // Nothing left to do: a run writes nothing to Glance.
    const from = h.requests.length;
    const third = await sync("ops");
    for (const r of third) expect(r.plan?.operations.filter((o) => o.kind.endsWith("Image"))).toEqual([]);
    expect(h.writes(from).filter((w) => w.operation.startsWith("glance."))).toEqual([]);
    // ...and reads members only of the shared image: one list, one members read per cloud.
    const reads = h.requests.slice(from).filter((r) => r.operation === "glance.images.members.list");
    expect(reads).toHaveLength(h.clouds.length);
  }, 60_000);
});
