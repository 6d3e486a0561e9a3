import { createHash, randomBytes } from "node:crypto";
import { createReadStream, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readImageStatus, SOURCE_DIGEST_MISMATCH } from "../../../src/images/index.js";
import type { GlanceClient } from "../../../src/openstack/index.js";
import { type CompiledImageSet, compileManifest, ImageSetSchema } from "../../../src/policy/manifests/index.js";
import { emptyDesired } from "../../../src/sync/index.js";
import { ImageDistributor, versionedName } from "../../../src/sync/resources/image/index.js";
import { IMAGE_DEPLOYMENT } from "../../../src/sync/resources/image/marks.js";
import { loadEndpoints } from "../../env/endpoints.js";
import { createHarness } from "../sync/harness.js";
import { randomFile } from "./helpers.js";

// Issue #28 through the sync engine, against the three real glance-api: ImageSets planned and applied per cloud,
// the clouds' runs at once (as the queue runs them), transfers of one version joined into one wave.
const h = createHarness({ timeoutMs: 30_000 });
const glance = (cloudId: string): GlanceClient => {
  const cloud = h.clouds.find((c) => c.id === cloudId);
  if (!cloud) throw new Error(`no cloud ${cloudId}`);
  return h.clients(cloud).images();
};
const distributor = new ImageDistributor({
  store: h.store,
  clients: glanceOwner,
  windowMs: 2_000,
  transfers: { backoff: { attempts: 2, baseMs: 300, maxMs: 1_000 } },
});
function glanceOwner(cloudId: string) {
  const cloud = h.clouds.find((c) => c.id === cloudId);
  if (!cloud) throw new Error(`no cloud ${cloudId}`);
  return h.clients(cloud);
}
const engine = h.engine({ images: distributor });
const tag = h.domain.slice(-8);
let big: Awaited<ReturnType<typeof randomFile>>;
const handMade: { cloudId: string; id: string }[] = [];

function imageSet(name: string, images: Record<string, unknown>[]): CompiledImageSet {
  const doc = ImageSetSchema.parse({
    apiVersion: "archway.dev/v1",
    kind: "ImageSet",
    metadata: { name },
    spec: { images },
  });
  const problems: string[] = [];
  const set = compileManifest(doc, h.clouds, (_p, m) => problems.push(m), `${name}.yaml:1`);
  if (problems.length > 0) throw new Error(problems.join("; "));
  return set as CompiledImageSet;
}

/** One sync run of every cloud at once, with these ImageSets. */
async function sync(...sets: CompiledImageSet[]) {
  const runId = `run-${randomBytes(3).toString("hex")}`;
  return Promise.all(
    h.clouds.map((c) =>
      engine.run(c.id, { ...emptyDesired(c.id), manifests: sets.filter((s) => s.clouds.includes(c.id)) }, { runId }),
    ),
  );
}

/** This deployment's images of one entry in a cloud. */
async function ours(cloudId: string, entry: string) {
  const list = await glance(cloudId).list({ properties: { [IMAGE_DEPLOYMENT]: h.domain, archway_image: entry } });
  return list.sort((a, b) => (a.created_at ?? "").localeCompare(b.created_at ?? ""));
}

const sha512 = (data: Buffer) => createHash("sha512").update(data).digest("hex");

/** A small file of random bytes in the big file's folder. */
function smallFile(name: string, mib: number) {
  const data = randomBytes(mib << 20);
  const path = join(big.dir, name);
  writeFileSync(path, data);
  return { path, sha512: sha512(data), size: data.length };
}

/** Serves one file at a port Glance's web-download accepts, counting the GETs. */
async function countingServer(path: string): Promise<{ url: string; gets: () => number; close: () => Promise<void> }> {
  let gets = 0;
  const size = statSync(path).size;
  const server: Server = createServer((req, res) => {
    if (req.method === "GET") gets++;
    res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(size) });
    createReadStream(path).pipe(res);
  });
  for (const port of loadEndpoints().glanceWebDownloadPorts) {
    const ok = await new Promise<boolean>((resolve) => {
      server.once("error", () => resolve(false));
      server.listen(port, "127.0.0.1", () => resolve(true));
    });
    if (ok)
      return {
        url: `http://127.0.0.1:${port}/image.raw`,
        gets: () => gets,
        close: () => new Promise((r) => server.close(() => r())),
      };
  }
  throw new Error("no free web-download port");
}

describe("ImageSets synced to the three real glance-api", () => {
  beforeAll(async () => {
    big = await randomFile(256);
  }, 120_000);

  afterAll(async () => {
    for (const c of h.clouds) {
      const g = glance(c.id);
      const mine = await g.list({ properties: { [IMAGE_DEPLOYMENT]: h.domain } }).catch(() => []);
      for (const i of mine) await g.delete(i.id, { unprotect: true }).catch(() => {});
    }
    for (const { cloudId, id } of handMade)
      await glance(cloudId)
        .delete(id)
        .catch(() => {});
    big?.remove();
    await h.cleanup();
  }, 120_000);

  it("a 256 MiB file is streamed to all three in one wave, verified; a second run writes nothing", async () => {
    const name = `deb-${tag}`;
    const set = imageSet("golden", [
      { name, source: { file: big.path }, diskFormat: "raw", properties: { os_distro: "debian" }, minDisk: 1 },
    ]);
    const waves = distributor.wavesStarted;
    const first = await sync(set);
    expect(first.map((r) => [r.cloudId, r.outcome, r.apply?.failed])).toEqual(
      h.clouds.map((c) => [c.id, "converged", []]),
    );
    expect(distributor.wavesStarted - waves).toBe(1);
    for (const c of h.clouds) {
      const [img, ...more] = await ours(c.id, name);
      expect(more).toEqual([]);
      expect(img).toMatchObject({
        name,
        status: "active",
        size: big.size,
        os_hash_algo: "sha512",
        os_hash_value: big.sha512,
        os_distro: "debian",
        min_disk: 1,
      });
    }
    const status = await readImageStatus(h.store);
    expect(status?.rows.filter((r) => r.image === name).map((r) => [r.cloudId, r.state, r.bytesDone])).toEqual(
      h.clouds.map((c) => [c.id, "present", big.size]),
    );

    const from = h.requests.length;
    const second = await sync(set);
    expect(second.map((r) => r.plan?.operations.length)).toEqual([0, 0, 0]);
    expect(h.writes(from)).toEqual([]);
  }, 180_000);

  it("the same by web-download from a local http server: Archway reads it once, each Glance pulls it", async () => {
    const server = await countingServer(big.path);
    try {
      const name = `deb-pull-${tag}`;
      const set = imageSet("pulled", [
        { name, source: { url: server.url, sha512: big.sha512 }, diskFormat: "raw", transfer: { mode: "pull" } },
      ]);
      const results = await sync(set);
      expect(results.map((r) => r.outcome)).toEqual(["converged", "converged", "converged"]);
      // One digest read by Archway for the whole wave, one pull per cloud.
      expect(server.gets()).toBe(1 + h.clouds.length);
      for (const c of h.clouds)
        expect(await ours(c.id, name)).toMatchObject([{ name, status: "active", os_hash_value: big.sha512 }]);
      const second = await sync(set);
      expect(second.map((r) => r.plan?.operations.length)).toEqual([0, 0, 0]);
    } finally {
      await server.close();
    }
  }, 180_000);

  it("a new source version makes a new image under the plain name; the oldest beyond keep 2 is retired", async () => {
    const name = `alp-${tag}`;
    const hand = await glance("cloud-2").create({ name: `hand-${tag}`, diskFormat: "raw", containerFormat: "bare" });
    handMade.push({ cloudId: "cloud-2", id: hand.id });
    const versions = [smallFile("v1.raw", 2), smallFile("v2.raw", 2), smallFile("v3.raw", 2)];
    for (const v of versions) {
      const set = imageSet("rolling", [{ name, source: { file: v.path }, diskFormat: "raw", keep: 2 }]);
      const results = await sync(set);
      expect(results.map((r) => r.outcome)).toEqual(["converged", "converged", "converged"]);
    }
    const [v1, v2, v3] = versions.map((v) => `sha512:${v.sha512}`) as [string, string, string];
    for (const c of h.clouds) {
      const imgs = await ours(c.id, name);
      expect(imgs.map((i) => [i.name, i.os_hash_value])).toEqual([
        [versionedName(name, v2), versions[1]?.sha512],
        [name, versions[2]?.sha512],
      ]);
      expect(imgs.some((i) => i.archway_version === v1)).toBe(false);
      expect(imgs.map((i) => i.archway_version)).toEqual([v2, v3]);
    }
    // The hand-made image was never touched.
    expect(await glance("cloud-2").get(hand.id)).toMatchObject({ name: `hand-${tag}`, status: "queued" });
  }, 180_000);

  it("a corrupted source (its bytes are not its pinned digest) is refused in every cloud, no image left", async () => {
    const server = await countingServer(big.path);
    try {
      const name = `bad-${tag}`;
      const set = imageSet("corrupt", [
        { name, source: { url: server.url, sha512: "0".repeat(128) }, diskFormat: "raw" },
      ]);
      const results = await sync(set);
      for (const r of results) {
        expect(r.outcome).toBe("applied_with_failures");
        expect(r.apply?.failed.map((f) => f.code)).toEqual([SOURCE_DIGEST_MISMATCH]);
      }
      for (const c of h.clouds) expect(await ours(c.id, name)).toEqual([]);
      const status = await readImageStatus(h.store);
      expect(status?.rows.filter((r) => r.image === name).map((r) => r.state)).toEqual(["failed", "failed", "failed"]);
    } finally {
      await server.close();
    }
  }, 180_000);

  it("a golden image made in cloud-1 is distributed to cloud-2 and cloud-3 (verified against its os_hash_value)", async () => {
    const file = smallFile("golden.raw", 4);
    const goldenName = `golden-src-${tag}`;
    const g1 = glance("cloud-1");
    const made = await g1.create({ name: goldenName, diskFormat: "raw", containerFormat: "bare" });
    handMade.push({ cloudId: "cloud-1", id: made.id });
    await g1.upload(made.id, createReadStream(file.path), { size: file.size });
    const name = `gold-${tag}`;
    const set = imageSet("from-golden", [{ name, source: { cloud: "cloud-1", image: goldenName }, diskFormat: "raw" }]);
    const results = await sync(set);
    expect(results.map((r) => [r.cloudId, r.outcome])).toEqual(h.clouds.map((c) => [c.id, "converged"]));
    expect(await ours("cloud-1", name)).toEqual([]);
    for (const id of ["cloud-2", "cloud-3"])
      expect(await ours(id, name)).toMatchObject([{ name, status: "active", os_hash_value: file.sha512 }]);
    expect(await g1.get(made.id)).toMatchObject({ name: goldenName, status: "active" });
  }, 120_000);
});
