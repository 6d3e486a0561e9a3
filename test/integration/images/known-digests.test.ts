import { createHash, randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ImageApi,
  ImageTransfers,
  SOURCE_DIGEST_MISMATCH,
  type SourceDigests,
} from "../../../src/images/index.js";
import type { GlanceClient, ImageCreate } from "../../../src/openstack/index.js";
import { glances, marked, randomFile, removeMarked, runMark } from "./helpers.js";

const { targets, close } = glances();
const mark = runMark();
let file: Awaited<ReturnType<typeof randomFile>>;
let known: SourceDigests;

/** A cloud's real Glance client that records what Archway creates and patches. */
function recorded(glance: GlanceClient) {
  const creates: ImageCreate[] = [];
  const updates: Record<string, unknown>[] = [];
  const api: ImageApi = {
    create: (spec) => {
      creates.push(spec);
      return glance.create(spec);
    },
    update: (id, changes, current) => {
      updates.push(changes);
      return glance.update(id, changes, current);
    },
    upload: glance.upload.bind(glance),
    openUpload: glance.openUpload.bind(glance),
    get: glance.get.bind(glance),
    delete: glance.delete.bind(glance),
    importWebDownload: glance.importWebDownload.bind(glance),
    list: glance.list.bind(glance),
  };
  return { api, creates, updates };
}

describe("streaming a file whose digests are known (the sync resource's cached ones) to the three real glance-api", () => {
  beforeAll(async () => {
    file = await randomFile(32);
    const bytes = readFileSync(file.path);
    known = { size: file.size, sha512: file.sha512, md5: createHash("md5").update(bytes).digest("hex") };
  }, 120_000);

  afterAll(async () => {
    await removeMarked(targets, mark);
    file?.remove();
    await close();
  });

  it("is not hashed by Archway; Glance's hashes prove each copy, private until then, public and protected after", async () => {
    const spies = targets.map((t) => ({ cloudId: t.cloudId, ...recorded(t.glance) }));
    const report = await new ImageTransfers().stream({
      source: { kind: "file", path: file.path, pin: { algorithm: "sha512", value: file.sha512 } },
      image: {
        name: "known-digests",
        diskFormat: "raw",
        containerFormat: "bare",
        visibility: "public",
        protected: true,
      },
      mark,
      targets: spies.map((s) => ({ cloudId: s.cloudId, glance: s.api })),
      expected: known,
    });
    expect(report.outcomes.map((o) => (o.ok ? "active" : o.code))).toEqual(targets.map(() => "active"));
    expect(report.digests).toBe(known);
    for (const [i, { glance }] of targets.entries()) {
      const spy = spies[i] as (typeof spies)[number];
      expect(spy.creates.map((c) => [c.visibility, c.protected])).toEqual([["private", false]]);
      expect(spy.updates).toEqual([{ visibility: "public", protected: true }]);
      const [img, ...more] = await marked(glance, mark);
      expect(more).toEqual([]);
      expect(img).toMatchObject({
        status: "active",
        visibility: "public",
        protected: true,
        size: known.size,
        checksum: known.md5,
        os_hash_algo: "sha512",
        os_hash_value: known.sha512,
      });
    }
  }, 300_000);

  it("a file changed in place since it was hashed (same size) is refused in every cloud: no copy released or left", async () => {
    writeFileSync(file.path, randomBytes(file.size));
    const refusedMark = { ...mark, archway_imageset: `${mark.archway_imageset}-changed` };
    const spies = targets.map((t) => ({ cloudId: t.cloudId, ...recorded(t.glance) }));
    const report = await new ImageTransfers({ backoff: { attempts: 2, baseMs: 200, maxMs: 500 } }).stream({
      source: { kind: "file", path: file.path },
      image: { name: "known-digests-changed", diskFormat: "raw", containerFormat: "bare", visibility: "public" },
      mark: refusedMark,
      targets: spies.map((s) => ({ cloudId: s.cloudId, glance: s.api })),
      expected: known,
    });
    expect(report.outcomes.map((o) => (o.ok ? "active" : o.code))).toEqual(targets.map(() => SOURCE_DIGEST_MISMATCH));
    for (const [i, { glance }] of targets.entries()) {
      expect(spies[i]?.updates).toEqual([]);
      expect(await marked(glance, refusedMark)).toEqual([]);
    }
  }, 300_000);
});
