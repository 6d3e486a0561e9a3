import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ImageTransfers, SOURCE_DIGEST_MISMATCH, sweepLeftovers } from "../../../src/images/index.js";
import { glances, marked, randomFile, removeMarked, runMark } from "./helpers.js";

const { targets, close } = glances();
const mark = runMark();
const image = {
  name: "golden-256m",
  diskFormat: "raw",
  containerFormat: "bare",
  minDisk: 1,
  properties: { os_distro: "debian" },
};
let file: Awaited<ReturnType<typeof randomFile>>;

describe("streaming an image to the three real glance-api", () => {
  beforeAll(async () => {
    file = await randomFile(256);
  }, 120_000);

  afterAll(async () => {
    await removeMarked(targets, mark);
    file?.remove();
    await close();
  });

  it("a 256 MiB image is read once, streamed to all three, and Glance's sha512 and md5 match", async () => {
    const transfers = new ImageTransfers({ backoff: { attempts: 2, baseMs: 500, maxMs: 2_000 } });
    const report = await transfers.stream({
      source: { kind: "file", path: file.path, pin: { algorithm: "sha512", value: file.sha512 } },
      image,
      mark,
      targets,
    });
    expect(report.outcomes.map((o) => [o.cloudId, o.ok])).toEqual(targets.map((t) => [t.cloudId, true]));
    expect(report.digests?.sha512).toBe(file.sha512);
    for (const { glance } of targets) {
      const [img, ...more] = await marked(glance, mark);
      expect(more).toHaveLength(0);
      expect(img).toMatchObject({
        status: "active",
        size: file.size,
        os_hash_algo: "sha512",
        os_hash_value: file.sha512,
        checksum: report.digests?.md5,
        os_distro: "debian",
        min_disk: 1,
      });
    }
  }, 300_000);

  it("a source that fails its pin is refused in every cloud, and no image of it remains", async () => {
    const refusedMark = { ...mark, archway_imageset: `${mark.archway_imageset}-bad` };
    const report = await new ImageTransfers().stream({
      source: { kind: "file", path: file.path, pin: { algorithm: "sha256", value: "00".repeat(32) } },
      image: { ...image, name: "golden-corrupt" },
      mark: refusedMark,
      targets,
    });
    expect(report.outcomes.map((o) => (o.ok ? "active" : o.code))).toEqual(targets.map(() => SOURCE_DIGEST_MISMATCH));
    for (const { glance } of targets) expect(await marked(glance, refusedMark)).toEqual([]);
  }, 300_000);

  it("the sweep deletes Archway's unfinished image and leaves a hand-made one alone", async () => {
    const [{ glance }] = targets as [(typeof targets)[number]];
    const ours = await glance.create({
      name: "archway-unfinished",
      diskFormat: "raw",
      containerFormat: "bare",
      properties: mark,
    });
    const handMade = await glance.create({
      name: "hand-made",
      diskFormat: "raw",
      containerFormat: "bare",
      properties: { archway_owner: "archway-test" },
    });
    try {
      const result = await sweepLeftovers(glance, mark);
      expect(result.deleted).toEqual([ours.id]);
      expect(await glance.find(ours.id)).toBeUndefined();
      expect((await glance.get(handMade.id)).status).toBe("queued");
      // The active image of the first test carries the mark but is finished: untouched too.
      expect((await marked(glance, mark)).map((i) => i.status)).toEqual(["active"]);
    } finally {
      await glance.delete(handMade.id);
    }
  }, 60_000);
});
