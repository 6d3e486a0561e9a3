import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  Digester,
  ImageTransfers,
  KnownDigests,
  SOURCE_DIGEST_MISMATCH,
  type SourceDigests,
  streamDigester,
  VERIFICATION_FAILED,
} from "../../../src/images/index.js";
import { FakeGlance, FakeWriterGlance } from "./fake-glance.js";

const dir = mkdtempSync(join(tmpdir(), "archway-images-known-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function sourceFile(name: string, bytes: Buffer): { path: string; digests: SourceDigests } {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return {
    path,
    digests: {
      size: bytes.length,
      md5: createHash("md5").update(bytes).digest("hex"),
      sha512: createHash("sha512").update(bytes).digest("hex"),
    },
  };
}

const data = randomBytes(2 * 1024 * 1024 + 77);
const golden = sourceFile("golden.img", data);
const mark = { archway_owner: "dep-1", archway_imageset: "golden" };
const fast = { backoff: { baseMs: 1, maxMs: 5, attempts: 2 }, chunkBytes: 256 * 1024, sinkBufferBytes: 256 * 1024 };
const clouds = (n: number) => Array.from({ length: n }, (_, i) => new FakeGlance(`cloud-${i + 1}`));
const targets = (gs: FakeGlance[]) => gs.map((g) => ({ cloudId: g.cloudId, glance: g }));

describe("quarantine until verified", () => {
  it("creates every copy private and unprotected, then gives it the asked visibility and protection", async () => {
    const gs = clouds(2);
    const created: { visibility?: string; protected?: boolean }[] = [];
    for (const g of gs) {
      const create = g.create.bind(g);
      g.create = async (spec) => {
        created.push({ visibility: spec.visibility, protected: spec.protected });
        return create(spec);
      };
    }
    const report = await new ImageTransfers(fast).stream({
      source: { kind: "file", path: golden.path },
      image: { name: "golden", diskFormat: "raw", containerFormat: "bare", visibility: "public", protected: true },
      mark,
      targets: targets(gs),
    });
    expect(report.outcomes.every((o) => o.ok)).toBe(true);
    expect(created).toEqual([
      { visibility: "private", protected: false },
      { visibility: "private", protected: false },
    ]);
    for (const g of gs) {
      expect(g.updates).toEqual([{ id: expect.any(String), changes: { visibility: "public", protected: true } }]);
      expect([...g.images.values()]).toMatchObject([{ status: "active", visibility: "public", protected: true }]);
    }
  });
});

describe("streaming a source whose digests are known", () => {
  const image = { name: "golden", diskFormat: "raw", containerFormat: "bare", visibility: "public" as const };

  it("does not hash: each copy is proved by Glance's own hashes against the known digests", async () => {
    const gs = clouds(3);
    const report = await new ImageTransfers(fast).stream({
      source: { kind: "file", path: golden.path, pin: { algorithm: "sha512", value: golden.digests.sha512 } },
      image,
      mark,
      targets: targets(gs),
      expected: golden.digests,
    });
    expect(report.outcomes.every((o) => o.ok)).toBe(true);
    // The known digests themselves come back: nothing was computed.
    expect(report.digests).toBe(golden.digests);
    for (const g of gs) expect(g.inStatus("active")[0]?.os_hash_value).toBe(golden.digests.sha512);
  });

  it("a source changed in place at the same size is refused in every cloud; no copy is ever released", async () => {
    const changed = sourceFile("changed.img", randomBytes(data.length));
    const gs = clouds(3);
    const report = await new ImageTransfers({ ...fast, fanout: 2, concurrencyTotal: 2 }).stream({
      source: { kind: "file", path: changed.path },
      image,
      mark,
      targets: targets(gs),
      expected: golden.digests,
    });
    expect(report.outcomes.map((o) => (o.ok ? "ok" : o.code))).toEqual(Array(3).fill(SOURCE_DIGEST_MISMATCH));
    for (const g of gs) {
      expect(g.images.size).toBe(0);
      expect(g.updates).toEqual([]);
    }
    // The third cloud, not in the first wave, never got an image: the refusal ended the request.
    expect((gs[2] as FakeGlance).deletes).toEqual([]);
  });

  it("a source that grew or shrank is refused before its last chunk: no upload completes", async () => {
    for (const bytes of [Buffer.concat([data, Buffer.from("x")]), data.subarray(0, data.length - 1)]) {
      const other = sourceFile("resized.img", bytes);
      const gs = clouds(2);
      const report = await new ImageTransfers(fast).stream({
        source: { kind: "file", path: other.path },
        image,
        mark,
        targets: targets(gs),
        expected: golden.digests,
      });
      expect(report.outcomes.map((o) => (o.ok ? "ok" : o.code))).toEqual([
        SOURCE_DIGEST_MISMATCH,
        SOURCE_DIGEST_MISMATCH,
      ]);
      for (const g of gs) {
        expect(g.inStatus("active")).toEqual([]);
        expect(g.images.size).toBe(0);
      }
    }
  });

  it("one cloud's bad copy fails that cloud only: the source is not blamed", async () => {
    const gs = clouds(3);
    (gs[1] as FakeGlance).corruptNext = true;
    const report = await new ImageTransfers(fast).stream({
      source: { kind: "file", path: golden.path },
      image,
      mark,
      targets: targets(gs),
      expected: golden.digests,
    });
    expect(report.outcomes.map((o) => (o.ok ? "ok" : o.code))).toEqual(["ok", VERIFICATION_FAILED, "ok"]);
    expect((gs[1] as FakeGlance).images.size).toBe(0);
    expect((gs[1] as FakeGlance).updates).toEqual([]);
  });
});

describe("uploads written piece by piece (a real Glance client's openUpload)", () => {
  it("a file is read into a few recycled buffers, each refilled only after every upload flushed it", async () => {
    const gs = [new FakeWriterGlance("cloud-1"), new FakeWriterGlance("cloud-2"), new FakeWriterGlance("cloud-3")];
    (gs[1] as FakeWriterGlance).flushDelayMs = 5;
    const report = await new ImageTransfers({ ...fast, chunkBytes: 64 * 1024 }).stream({
      source: { kind: "file", path: golden.path },
      image: { name: "golden", diskFormat: "raw", containerFormat: "bare" },
      mark,
      targets: targets(gs),
    });
    // 33 chunks through 4 buffers: a buffer refilled early would have changed what the slow cloud hashed.
    expect(report.outcomes.every((o) => o.ok)).toBe(true);
    for (const g of gs) {
      expect(g.opened).toBe(1);
      expect(g.inStatus("active")[0]).toMatchObject({ size: data.length, os_hash_value: golden.digests.sha512 });
    }
  });

  it("a cloud whose upload fails is cut; the others finish from the same buffers", async () => {
    const gs = [new FakeWriterGlance("cloud-1"), new FakeWriterGlance("cloud-2")];
    const g1 = gs[0] as FakeWriterGlance;
    const open = g1.openUpload.bind(g1);
    let cut = false;
    g1.openUpload = async (id) => {
      const w = await open(id);
      return {
        ...w,
        write: async (chunk) => {
          if (!cut) {
            cut = true;
            w.abort(new Error("connection reset"));
            throw new Error("connection reset");
          }
          return w.write(chunk);
        },
      };
    };
    const report = await new ImageTransfers({ ...fast, chunkBytes: 64 * 1024 }).stream({
      source: { kind: "file", path: golden.path },
      image: { name: "golden", diskFormat: "raw", containerFormat: "bare" },
      mark,
      targets: targets(gs),
    });
    expect(report.outcomes.map((o) => [o.cloudId, o.ok, o.attempts])).toEqual([
      ["cloud-1", true, 2],
      ["cloud-2", true, 1],
    ]);
    expect(g1.deletes).toHaveLength(1);
  });
});

describe("streamDigester", () => {
  const what = "file /x";
  it("counts bytes only when the digests are known and agree with a sha512 pin (or there is no pin)", () => {
    expect(streamDigester(undefined, golden.digests, what)).toBeInstanceOf(KnownDigests);
    const pin = { algorithm: "sha512" as const, value: golden.digests.sha512.toUpperCase() };
    expect(streamDigester(pin, golden.digests, what)).toBeInstanceOf(KnownDigests);
  });

  it("hashes when nothing is known, when the known digests contradict the pin, and for a sha256 pin", () => {
    expect(streamDigester(undefined, undefined, what)).toBeInstanceOf(Digester);
    expect(streamDigester({ algorithm: "sha512", value: "ab" }, golden.digests, what)).toBeInstanceOf(Digester);
    expect(streamDigester({ algorithm: "sha256", value: "ab" }, golden.digests, what)).toBeInstanceOf(Digester);
  });

  it("KnownDigests refuses a byte beyond the known size at once, and a short read at the end", () => {
    const over = new KnownDigests({ ...golden.digests, size: 4 }, what);
    over.update(new Uint8Array(4));
    expect(() => over.update(new Uint8Array(1))).toThrow(/5 bytes read, 4 expected/);
    const short = new KnownDigests({ ...golden.digests, size: 4 }, what);
    short.update(new Uint8Array(3));
    expect(() => short.digest()).toThrow(expect.objectContaining({ code: SOURCE_DIGEST_MISMATCH }));
  });
});
