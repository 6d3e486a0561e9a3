import { describe, expect, it } from "vitest";
import { CloudSchema } from "../../../../src/config/index.js";
import type { Image } from "../../../../src/openstack/index.js";
import { type CompiledImageSet, compileManifest, ImageSetSchema } from "../../../../src/policy/manifests/index.js";
import {
  type ImagesObserved,
  imageMarks,
  isVerified,
  versionedName,
} from "../../../../src/sync/resources/image/index.js";
import { ownedImage, versionPin } from "../../../../src/sync/resources/image/marks.js";
import { statusRows, wantedImages } from "../../../../src/sync/resources/image/observe.js";
import type { ImageOperation } from "../../../../src/sync/resources/image/ops.js";
import { LEFTOVER_AGE_MS } from "../../../../src/sync/resources/image/plan.js";
import { cloud, desiredOf, kinds, NOW, OWN, observedOf, plan } from "./fixtures.js";

const V1 = `sha512:${"a".repeat(128)}`;
const V2 = `sha512:${"b".repeat(128)}`;
const V3 = `sha512:${"c".repeat(128)}`;
const V4 = `sha512:${"d".repeat(128)}`;
const URL_SRC = { url: "http://127.0.0.1:19380/debian.raw", sha512: "a".repeat(128) };

/** An ImageSet compiled against a one-cloud inventory (through the real compiler). */
function imageSet(images: Record<string, unknown>[], name = "golden"): CompiledImageSet {
  const doc = ImageSetSchema.parse({
    apiVersion: "archway.dev/v1",
    kind: "ImageSet",
    metadata: { name },
    spec: { images },
  });
  const problems: string[] = [];
  const compiled = compileManifest(doc, [cloud], (_p, m) => problems.push(m), `${name}.yaml:1`);
  if (problems.length > 0) throw new Error(problems.join("; "));
  return compiled as CompiledImageSet;
}
const debian = (over: Record<string, unknown> = {}) => ({
  name: "debian-12",
  source: URL_SRC,
  diskFormat: "raw",
  properties: { os_distro: "debian" },
  ...over,
});

let seq = 0;
/** An image of this deployment in Glance, as observe parses it; verified for its version unless told. */
function glanceImage(version: string, over: Partial<Image> & Record<string, unknown> = {}, set = "golden") {
  seq++;
  const raw = {
    id: `img-${seq}`,
    name: "debian-12",
    status: "active",
    visibility: "private",
    protected: false,
    min_disk: 0,
    min_ram: 0,
    size: 10,
    os_hash_algo: "sha512",
    os_hash_value: version.split(":")[1],
    // Later fixtures are newer.
    created_at: new Date(Date.UTC(2026, 10, 1) + seq * 60_000).toISOString(),
    updated_at: new Date(Date.UTC(2026, 10, 1) + seq * 60_000).toISOString(),
    os_distro: "debian",
    ...imageMarks(OWN, set, "debian-12", version),
    ...over,
  } as Image;
  const owned = ownedImage(raw, OWN);
  if (!owned) throw new Error("fixture image is not owned");
  return owned;
}

function observed(
  version: string | undefined,
  list: ReturnType<typeof glanceImage>[],
  extra: Partial<ImagesObserved> = {},
) {
  const source = {
    kind: "url" as const,
    url: URL_SRC.url,
    pin: { algorithm: "sha512" as const, value: URL_SRC.sha512 },
  };
  const resolved = version ? { version, source } : { problem: { code: "image_source_unavailable", reason: "gone" } };
  return observedOf({
    image: {
      wanted: true,
      images: list,
      versions: new Map([["golden", new Map([["debian-12", resolved]])]]),
      ...extra,
    },
  });
}
const want = (...sets: CompiledImageSet[]) => desiredOf({ manifests: sets });
const ops = <K extends ImageOperation["kind"]>(p: { operations: { kind: string }[] }, kind: K) =>
  p.operations.filter((o) => o.kind === kind) as Extract<ImageOperation, { kind: K }>[];

describe("ImageSet manifests", () => {
  it("compile per-cloud modes: stream by default, pull where selected, a mirror by label", () => {
    const clouds = ["a", "b", "c"].map((id) =>
      CloudSchema.parse({
        id: `cloud-${id}`,
        authUrl: "http://127.0.0.1:1/v3",
        admin: { username: "x", password: "y" },
        labels: { site: id === "a" ? "paris" : "lyon", tier: id === "c" ? "edge" : "core" },
      }),
    );
    const doc = ImageSetSchema.parse({
      apiVersion: "archway.dev/v1",
      kind: "ImageSet",
      metadata: { name: "golden" },
      spec: {
        images: [
          debian({
            transfer: {
              pull: { labels: { tier: "edge" } },
              mirrors: { label: "site", urls: { lyon: "http://m/l.raw" } },
            },
          }),
        ],
      },
    });
    const set = compileManifest(doc, clouds, () => {}, "x:1") as CompiledImageSet;
    expect(set.images[0]?.transfer).toEqual({
      "cloud-a": { mode: "stream" },
      "cloud-b": { mode: "stream" },
      "cloud-c": { mode: "pull", url: "http://m/l.raw" },
    });
    expect(set.images[0]).toMatchObject({ keep: 2, visibility: "private", containerFormat: "bare" });
  });

  it("refuse a URL without exactly one pin, archway_ properties and a file source that clouds must pull", () => {
    const parse = (img: Record<string, unknown>) =>
      ImageSetSchema.safeParse({
        apiVersion: "archway.dev/v1",
        kind: "ImageSet",
        metadata: { name: "s" },
        spec: { images: [img] },
      }).success;
    expect(parse(debian({ source: { url: "http://x/y" } }))).toBe(false);
    expect(parse(debian({ source: { ...URL_SRC, sha256: "0".repeat(64) } }))).toBe(false);
    expect(parse(debian({ properties: { archway_version: "x" } }))).toBe(false);
    expect(parse(debian({ name: "a@b" }))).toBe(false);
    expect(() => imageSet([debian({ source: { file: "/srv/x.raw" }, transfer: { mode: "pull" } })])).toThrow(
      /not a URL and no mirror/,
    );
  });

  it("a golden cloud is the source, never a target", () => {
    const set = imageSet([debian({ source: { cloud: "cloud-1", image: "debian-golden" } })]);
    expect(set.images[0]?.transfer).toEqual({});
    expect(wantedImages({ cloud, desired: want(set) })).toEqual([]);
  });
});

describe("image planner", () => {
  it("a missing version is transferred, created under its versioned name with the set's fields", () => {
    const p = plan(want(imageSet([debian()])), observed(V1, []));
    expect(p.operations).toEqual([
      {
        kind: "transferImage",
        imageSet: "golden",
        image: "debian-12",
        version: V1,
        source: { kind: "url", url: URL_SRC.url, pin: { algorithm: "sha512", value: URL_SRC.sha512 } },
        fields: {
          diskFormat: "raw",
          containerFormat: "bare",
          visibility: "private",
          protected: false,
          minDisk: 0,
          minRam: 0,
          properties: { os_distro: "debian" },
        },
        mode: "stream",
        members: [],
        policies: ["golden"],
      },
    ]);
    expect(p.counts.create).toBe(1);
    expect(p.destructive).toBe(0);
  });

  it("a present, verified version with the plain name: nothing to do (a second run writes nothing)", () => {
    const p = plan(want(imageSet([debian()])), observed(V1, [glanceImage(V1)]));
    expect(p.operations).toEqual([]);
    expect(p.problems).toEqual([]);
  });

  it("a copy whose sha512 is not its version's is deleted and the version transferred again", () => {
    const bad = glanceImage(V1, { os_hash_value: "f".repeat(128) });
    expect(isVerified(bad, V1)).toBe(false);
    const p = plan(want(imageSet([debian()])), observed(V1, [bad]));
    expect(kinds(p)).toEqual(["deleteImage", "transferImage"]);
    expect(ops(p, "deleteImage")[0]).toMatchObject({ imageId: bad.id, reason: "mismatch" });
  });

  it("a new version: transferred, the old one demoted to its versioned name, nothing retired within keep 2", () => {
    const old = glanceImage(V1);
    const p = plan(want(imageSet([debian({ source: { ...URL_SRC, sha512: "b".repeat(128) } })])), observed(V2, [old]));
    expect(kinds(p)).toEqual(["transferImage"]);
    expect(ops(p, "transferImage")[0]?.demote).toEqual({ imageId: old.id, name: versionedName("debian-12", V1) });
    expect(versionedName("debian-12", V1)).toBe("debian-12@aaaaaaaaaaaa");
  });

  it("a version is the pin its source is checked against: sha256, else sha512", () => {
    expect(versionPin("sha256:ab12")).toEqual({ algorithm: "sha256", value: "ab12" });
    expect(versionPin("sha512:cd34")).toEqual({ algorithm: "sha512", value: "cd34" });
    expect(versionPin("sha512")).toEqual({ algorithm: "sha512", value: "" });
  });

  it("versions beyond keep are retired, oldest first, counted as deletions; retirement waits for the new one", () => {
    const v1 = glanceImage(V1, { name: versionedName("debian-12", V1) });
    const v2 = glanceImage(V2, { name: versionedName("debian-12", V2) });
    const v3 = glanceImage(V3);
    const p = plan(
      want(imageSet([debian({ source: { ...URL_SRC, sha512: "d".repeat(128) } })])),
      observed(V4, [v1, v2, v3]),
    );
    expect(kinds(p)).toEqual(["transferImage", "deleteImage", "deleteImage"]);
    expect(ops(p, "transferImage")[0]?.demote?.imageId).toBe(v3.id);
    expect(ops(p, "deleteImage").map((d) => [d.imageId, d.reason, d.afterVersion])).toEqual([
      [v2.id, "retired", V4],
      [v1.id, "retired", V4],
    ]);
    expect(p.destructive).toBe(2);
  });

  it("with the new version present, the retirement is unconditional and names are put right", () => {
    const v1 = glanceImage(V1, { name: "debian-12" });
    const v2 = glanceImage(V2, { name: versionedName("debian-12", V2) });
    const v3 = glanceImage(V3, { name: versionedName("debian-12", V3) });
    const p = plan(
      want(imageSet([debian({ keep: 2, source: { ...URL_SRC, sha512: "c".repeat(128) } })])),
      observed(V3, [v1, v2, v3]),
    );
    expect(p.operations.map((o) => [o.kind, "imageId" in o ? o.imageId : "", "to" in o ? o.to : ""])).toEqual([
      ["renameImage", v3.id, "debian-12"],
      ["deleteImage", v1.id, ""],
    ]);
    expect(ops(p, "deleteImage")[0]?.afterVersion).toBeUndefined();
  });

  it("an older version holding a wrong name within keep is renamed to its versioned name", () => {
    const v1 = glanceImage(V1, { name: "debian-12-old" });
    const v2 = glanceImage(V2);
    const p = plan(
      want(imageSet([debian({ keep: 3, source: { ...URL_SRC, sha512: "b".repeat(128) } })])),
      observed(V2, [v1, v2]),
    );
    expect(p.operations).toMatchObject([
      { kind: "renameImage", imageId: v1.id, to: "debian-12@aaaaaaaaaaaa", version: V1 },
    ]);
  });

  it("changed fields of the present version are updated in place; formats are not fields", () => {
    const p = plan(
      want(
        imageSet([
          debian({
            visibility: "public",
            protected: true,
            minRam: 512,
            properties: { os_distro: "debian", hw_disk_bus: "scsi" },
          }),
        ]),
      ),
      observed(V1, [glanceImage(V1)]),
    );
    expect(p.operations).toMatchObject([
      { kind: "updateImage", changes: { visibility: "public", protected: true, min_ram: 512, hw_disk_bus: "scsi" } },
    ]);
  });

  it("a second copy of one version is deleted (the newest kept)", () => {
    const a = glanceImage(V1);
    const b = glanceImage(V1);
    const p = plan(want(imageSet([debian()])), observed(V1, [a, b]));
    expect(p.operations).toMatchObject([{ kind: "deleteImage", imageId: a.id, reason: "duplicate" }]);
  });

  it("Archway's unfinished leftovers older than the grace are deleted; a young one is left (a transfer elsewhere)", () => {
    const old = new Date(NOW.getTime() - LEFTOVER_AGE_MS - 1000).toISOString();
    const young = new Date(NOW.getTime() - 1000).toISOString();
    const stale = glanceImage(V1, { status: "saving", updated_at: old, name: "debian-12@aaaaaaaaaaaa" });
    const fresh = glanceImage(V1, { status: "queued", updated_at: young, name: "debian-12@aaaaaaaaaaaa" });
    const p = plan(want(imageSet([debian()])), observed(V1, [stale, fresh]));
    expect(kinds(p)).toEqual(["deleteImage", "transferImage"]);
    expect(ops(p, "deleteImage")[0]).toMatchObject({ imageId: stale.id, reason: "leftover" });
  });

  it("hand-made images and another deployment's are not Archway's: never parsed as owned", () => {
    const raw = { id: "h", name: "debian-12", status: "active" } as Image;
    expect(ownedImage(raw, OWN)).toBeNull();
    expect(
      ownedImage(
        { ...raw, ...imageMarks({ deploymentId: "other", adoptUnmarked: false }, "golden", "debian-12", V1) },
        OWN,
      ),
    ).toBeNull();
  });

  it("images of a set the cloud no longer gets are left alone (they may back servers)", () => {
    const p = plan(want(imageSet([debian({ name: "ubuntu" })])), observed(V1, [glanceImage(V1)]));
    expect(p.operations.filter((o) => "imageId" in o)).toEqual([]);
  });

  it("a down Glance: no operation, a problem, and its rows pending", () => {
    const down = { code: "cloud_unavailable", reason: "Glance of cloud cloud-1 cannot be read: refused" };
    const obs = observed(V1, [], { down });
    const p = plan(want(imageSet([debian()])), obs);
    expect(p.operations).toEqual([]);
    expect(p.problems[0]).toMatch(/pending/);
    const slice = obs.of<ImagesObserved>({ name: "image", observe: async () => obs.of("x" as never) });
    const rows = statusRows("cloud-1", wantedImages({ cloud, desired: want(imageSet([debian()])) }), slice);
    expect(rows).toMatchObject([{ state: "pending", code: "cloud_unavailable", version: V1 }]);
  });

  it("a source whose version cannot be known (file gone, golden cloud down): a problem, nothing retired", () => {
    const p = plan(want(imageSet([debian()])), observed(undefined, [glanceImage(V1)]));
    expect(p.operations).toEqual([]);
    expect(p.problems[0]).toMatch(/gone/);
  });

  it("one name from two sets in one cloud is a conflict: neither synced", () => {
    const p = plan(want(imageSet([debian()], "golden"), imageSet([debian()], "other")), observed(V1, []));
    expect(p.operations).toEqual([]);
    expect(p.problems[0]).toMatch(/golden, other/);
  });

  it("a shared image is shared with the projects Archway grants in the cloud", () => {
    const p = plan(
      {
        ...want(imageSet([debian({ visibility: "shared" })])),
        projects: [{ name: "ops", domain: "archway", description: "", tags: [], create: true, policies: ["p"] }],
      },
      observed(V1, []),
    );
    expect(ops(p, "transferImage")[0]?.members).toEqual([{ domain: "archway", name: "ops" }]);
  });

  it("just-in-time runs plan nothing for images", () => {
    const p = plan(want(imageSet([debian()])), observed(V1, []), { people: new Set(["x"]) });
    expect(ops(p, "transferImage")).toEqual([]);
  });
});
