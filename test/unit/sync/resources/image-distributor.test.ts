import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { readImageStatus } from "../../../../src/images/index.js";
import type { CloudClients, GlanceClient, Image } from "../../../../src/openstack/index.js";
import { MemoryStore } from "../../../../src/store/index.js";
import { ImageDistributor } from "../../../../src/sync/resources/image/index.js";
import type { TransferImage } from "../../../../src/sync/resources/image/ops.js";

const dir = mkdtempSync(join(tmpdir(), "archway-distributor-"));
const data = Buffer.alloc(3 << 20, 7);
const path = join(dir, "image.raw");
writeFileSync(path, data);
const hex = (alg: string) => createHash(alg).update(data).digest("hex");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** An in-memory Glance: images hashed as they are uploaded, counting creates. */
function fakeGlance() {
  const images = new Map<string, Image>();
  let n = 0;
  const glance = {
    creates: 0,
    async create(spec: { name: string; visibility?: string; properties?: Record<string, string> }) {
      glance.creates++;
      const image = {
        id: `i${++n}`,
        name: spec.name,
        status: "queued",
        visibility: spec.visibility,
        ...spec.properties,
      } as Image;
      images.set(image.id, image);
      return image;
    },
    async upload(id: string, body: Readable) {
      const sha512 = createHash("sha512");
      const md5 = createHash("md5");
      let size = 0;
      for await (const chunk of body as AsyncIterable<Buffer>) {
        sha512.update(chunk);
        md5.update(chunk);
        size += chunk.length;
      }
      const image = images.get(id) as Image;
      Object.assign(image, {
        status: "active",
        size,
        checksum: md5.digest("hex"),
        os_hash_algo: "sha512",
        os_hash_value: sha512.digest("hex"),
      });
    },
    async get(id: string) {
      return images.get(id) as Image;
    },
    async update(id: string, changes: Record<string, unknown>) {
      return Object.assign(images.get(id) as Image, changes);
    },
    async delete(id: string) {
      images.delete(id);
    },
    async list() {
      return [...images.values()];
    },
  };
  return glance;
}

const op = (): TransferImage => ({
  kind: "transferImage",
  imageSet: "golden",
  image: "debian",
  version: `sha512:${hex("sha512")}`,
  source: { kind: "file", path },
  fields: {
    diskFormat: "raw",
    containerFormat: "bare",
    visibility: "private",
    protected: false,
    minDisk: 0,
    minRam: 0,
    properties: {},
  },
  mode: "stream",
  members: [],
  policies: ["golden"],
});

describe("ImageDistributor", () => {
  it("joins the same version's transfers to several clouds into one wave (one read), and fills the status grid", async () => {
    const store = new MemoryStore();
    const d = new ImageDistributor({ store, clients: () => ({}) as CloudClients, windowMs: 200, statusIntervalMs: 10 });
    const clouds = ["c1", "c2", "c3"].map((id) => ({ id, glance: fakeGlance() }));
    const outcomes = await Promise.all(
      clouds.map((c) => d.transfer(c.id, c.glance as unknown as GlanceClient, op(), { archway_deployment: "t" })),
    );
    expect(outcomes.map((o) => o.ok)).toEqual([true, true, true]);
    expect(d.wavesStarted).toBe(1);
    await d.settle();
    const grid = await readImageStatus(store);
    expect(grid?.rows.map((r) => [r.cloudId, r.state, r.bytesDone])).toEqual([
      ["c1", "present", data.length],
      ["c2", "present", data.length],
      ["c3", "present", data.length],
    ]);
    expect(grid?.running).toBe(false);
  });

  it("a full wave (the fanout) starts at once; a later arrival makes a wave of its own", async () => {
    const d = new ImageDistributor({
      store: new MemoryStore(),
      clients: () => ({}) as CloudClients,
      windowMs: 60_000,
      fanout: 2,
    });
    const [a, b] = [fakeGlance(), fakeGlance()];
    const started = Date.now();
    await Promise.all([
      d.transfer("c1", a as unknown as GlanceClient, op(), { m: "1" }),
      d.transfer("c2", b as unknown as GlanceClient, op(), { m: "1" }),
    ]);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(d.wavesStarted).toBe(1);
  });

  it("resolves a file's version once per path, size and mtime (kept in the store)", async () => {
    const store = new MemoryStore();
    const d = new ImageDistributor({ store, clients: () => ({}) as CloudClients });
    const image = { name: "debian", source: { file: path } } as Parameters<ImageDistributor["resolve"]>[0];
    const first = await d.resolve(image);
    expect(first).toMatchObject({ version: `sha512:${hex("sha512")}`, size: data.length });
    // A second process (a fresh distributor on the same store) finds it without reading the file.
    const again = await new ImageDistributor({ store, clients: () => ({}) as CloudClients }).resolve(image);
    expect(again).toEqual(first);
    expect(await d.resolve({ ...image, source: { file: join(dir, "missing.raw") } })).toMatchObject({
      problem: { code: "image_source_unavailable" },
    });
  });
});
