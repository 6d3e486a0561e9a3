import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import {
  Digester,
  ImageTransfers,
  SOURCE_DIGEST_MISMATCH,
  sweepLeftovers,
  TeeSink,
  tee,
  VERIFICATION_FAILED,
} from "../../../src/images/index.js";
import { FakeGlance } from "./fake-glance.js";

const dir = mkdtempSync(join(tmpdir(), "archway-images-unit-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const data = randomBytes(3 * 1024 * 1024 + 123);
const file = join(dir, "golden.img");
writeFileSync(file, data);
const sha512 = createHash("sha512").update(data).digest("hex");
const mark = { archway_owner: "dep-1", archway_imageset: "golden" };
const image = { name: "golden", diskFormat: "raw", containerFormat: "bare" };
const fast = { backoff: { baseMs: 1, maxMs: 5, attempts: 3 }, chunkBytes: 256 * 1024, sinkBufferBytes: 256 * 1024 };

function clouds(n: number) {
  return Array.from({ length: n }, (_, i) => new FakeGlance(`cloud-${i + 1}`));
}
const targets = (gs: FakeGlance[]) => gs.map((g) => ({ cloudId: g.cloudId, glance: g }));

describe("streaming one source to several clouds", () => {
  it("reads once, uploads to all, verifies, and marks the images", async () => {
    const gs = clouds(3);
    const phases: string[] = [];
    const t = new ImageTransfers({ ...fast, onProgress: (p) => phases.push(p.phase) });
    const report = await t.stream({
      source: { kind: "file", path: file, pin: { algorithm: "sha512", value: sha512 } },
      image,
      mark,
      targets: targets(gs),
    });
    expect(report.digests?.sha512).toBe(sha512);
    expect(report.outcomes.every((o) => o.ok)).toBe(true);
    for (const g of gs) {
      const [img] = g.inStatus("active");
      expect(img?.os_hash_value).toBe(sha512);
      expect(img?.archway_owner).toBe("dep-1");
      expect(g.images.size).toBe(1);
    }
    expect(phases).toContain("uploading");
  });

  it("a cut upload is retried on a fresh image; the broken one is deleted; the others finish in the first wave", async () => {
    const gs = clouds(3);
    (gs[1] as FakeGlance).failUploads = [1024 * 1024];
    const report = await new ImageTransfers(fast).stream({
      source: { kind: "file", path: file },
      image,
      mark,
      targets: targets(gs),
    });
    const byCloud = Object.fromEntries(report.outcomes.map((o) => [o.cloudId, o]));
    expect(byCloud["cloud-1"]).toMatchObject({ ok: true, attempts: 1 });
    expect(byCloud["cloud-2"]).toMatchObject({ ok: true, attempts: 2 });
    expect((gs[1] as FakeGlance).deletes).toHaveLength(1);
    for (const g of gs) expect([...g.images.values()].map((i) => i.status)).toEqual(["active"]);
  });

  it("gives up after the attempts, deletes every attempt's image and reports the cloud", async () => {
    const gs = clouds(2);
    (gs[0] as FakeGlance).failUploads = [1, 1, 1];
    const report = await new ImageTransfers(fast).stream({
      source: { kind: "file", path: file },
      image,
      mark,
      targets: targets(gs),
    });
    expect(report.outcomes.find((o) => o.cloudId === "cloud-1")).toMatchObject({
      ok: false,
      attempts: 3,
      leftovers: [],
    });
    expect((gs[0] as FakeGlance).images.size).toBe(0);
    expect(report.outcomes.find((o) => o.cloudId === "cloud-2")?.ok).toBe(true);
  });

  it("a source that fails its pin is refused everywhere and no image ever goes active", async () => {
    const gs = clouds(3);
    const report = await new ImageTransfers(fast).stream({
      source: { kind: "file", path: file, pin: { algorithm: "sha256", value: "ab".repeat(32) } },
      image,
      mark,
      targets: targets(gs),
    });
    expect(report.outcomes.map((o) => (o.ok ? "ok" : o.code))).toEqual(Array(3).fill(SOURCE_DIGEST_MISMATCH));
    for (const g of gs) expect(g.images.size).toBe(0);
  });

  it("an image whose Glance digests differ is deleted and reported, not retried", async () => {
    const gs = clouds(2);
    (gs[1] as FakeGlance).corruptNext = true;
    const report = await new ImageTransfers(fast).stream({
      source: { kind: "file", path: file },
      image,
      mark,
      targets: targets(gs),
    });
    expect(report.outcomes.find((o) => o.cloudId === "cloud-2")).toMatchObject({
      ok: false,
      code: VERIFICATION_FAILED,
      attempts: 1,
    });
    expect((gs[1] as FakeGlance).images.size).toBe(0);
  });

  it("respects concurrency: with fanout 2 and 5 clouds the source is read in three waves", async () => {
    const gs = clouds(5);
    let maxActive = 0;
    const t = new ImageTransfers({
      ...fast,
      concurrencyTotal: 2,
      onProgress: () => (maxActive = Math.max(maxActive, t.active)),
    });
    const report = await t.stream({ source: { kind: "file", path: file }, image, mark, targets: targets(gs) });
    expect(report.outcomes.every((o) => o.ok)).toBe(true);
    expect(maxActive).toBe(2);
  });

  it("the slowest target sets the pace: the tee reads ahead of it by a few chunks only, whatever the size", async () => {
    const chunk = 256 * 1024;
    let produced = 0;
    let slowConsumed = 0;
    let maxAhead = 0;
    const source = Readable.from(
      (function* () {
        for (let i = 0; i < 64; i++) {
          produced += chunk;
          maxAhead = Math.max(maxAhead, produced - slowConsumed);
          yield Buffer.alloc(chunk, i);
        }
      })(),
    );
    const sinks = [new TeeSink("fast", chunk), new TeeSink("slow", chunk)];
    const drain = async (sink: TeeSink, delayMs: number, onChunk: (n: number) => void) => {
      for await (const c of sink.stream as AsyncIterable<Buffer>) {
        if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
        onChunk(c.length);
      }
    };
    const consumers = [
      drain(sinks[0] as TeeSink, 0, () => {}),
      drain(sinks[1] as TeeSink, 1, (n) => (slowConsumed += n)),
    ];
    const result = await tee(source, sinks, { digester: new Digester() });
    await Promise.all(consumers);
    expect(result.ok && result.digests.size).toBe(64 * chunk);
    expect(slowConsumed).toBe(64 * chunk);
    // 16 MiB went through; the slow reader was never more than a handful of chunks behind the source.
    expect(maxAhead).toBeLessThan(8 * chunk);
  });
});

describe("leftover sweep", () => {
  it("deletes Archway's unfinished images and leaves hand-made and finished ones", async () => {
    const [g] = clouds(1) as [FakeGlance];
    const ours = await g.create({ ...image, properties: mark });
    const finished = await g.create({ ...image, properties: mark });
    (g.images.get(finished.id) as { status: string }).status = "active";
    const handMade = await g.create(image);
    const result = await sweepLeftovers(g, mark);
    expect(result.deleted).toEqual([ours.id]);
    expect(g.images.has(handMade.id)).toBe(true);
    expect(g.images.has(finished.id)).toBe(true);
    await expect(sweepLeftovers(g, {})).rejects.toThrow(/mark/);
  });
});
