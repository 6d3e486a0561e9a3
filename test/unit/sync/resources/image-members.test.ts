import { describe, expect, it } from "vitest";
import type { GlanceClient, Image, ImageMember } from "../../../../src/openstack/index.js";
import type { DesiredProject } from "../../../../src/policy/index.js";
import { type CompiledImageSet, compileManifest, ImageSetSchema } from "../../../../src/policy/manifests/index.js";
import { ProjectMap } from "../../../../src/sync/project-ref.js";
import { imageMarks } from "../../../../src/sync/resources/image/index.js";
import { ownedImage } from "../../../../src/sync/resources/image/marks.js";
import { readMembers } from "../../../../src/sync/resources/image/members.js";
import { wantedImages } from "../../../../src/sync/resources/image/observe.js";
import type { ImageOperation } from "../../../../src/sync/resources/image/ops.js";
import type { ObservedProject } from "../../../../src/sync/resources/project/index.js";
import { cloud, desiredOf, OWN, observedOf, plan } from "./fixtures.js";

const V1 = `sha512:${"a".repeat(128)}`;
const V2 = `sha512:${"b".repeat(128)}`;
const URL_SRC = { url: "http://127.0.0.1:19380/debian.raw", sha512: "a".repeat(128) };

function imageSet(over: Record<string, unknown> = {}): CompiledImageSet {
  const doc = ImageSetSchema.parse({
    apiVersion: "archway.dev/v1",
    kind: "ImageSet",
    metadata: { name: "golden" },
    spec: { images: [{ name: "debian-12", source: URL_SRC, diskFormat: "raw", visibility: "shared", ...over }] },
  });
  const problems: string[] = [];
  const compiled = compileManifest(doc, [cloud], (_p, m) => problems.push(m), "golden.yaml:1");
  if (problems.length > 0) throw new Error(problems.join("; "));
  return compiled as CompiledImageSet;
}

let seq = 0;
function glanceImage(version: string, over: Record<string, unknown> = {}) {
  seq++;
  const raw = {
    id: `img-${seq}`,
    name: "debian-12",
    status: "active",
    visibility: "shared",
    protected: false,
    min_disk: 0,
    min_ram: 0,
    os_hash_algo: "sha512",
    os_hash_value: version.split(":")[1],
    created_at: new Date(Date.UTC(2026, 10, 1) + seq * 60_000).toISOString(),
    updated_at: new Date(Date.UTC(2026, 10, 1) + seq * 60_000).toISOString(),
    ...imageMarks(OWN, "golden", "debian-12", version),
    ...over,
  } as Image;
  const owned = ownedImage(raw, OWN);
  if (!owned) throw new Error("fixture image is not owned");
  return owned;
}

const granted = (...names: string[]): DesiredProject[] =>
  names.map((name) => ({ name, domain: "archway", description: "", tags: [], create: true, policies: ["p"] }));

/** Keystone projects as the project resource observed them: `owned` ones carry Archway's tag. */
function projectSlice(list: { name: string; id: string; owned: boolean }[]) {
  const out = new ProjectMap<ObservedProject>();
  for (const p of list)
    out.set(
      { domain: "archway", name: p.name },
      { id: p.id, name: p.name, domainId: "d-a", description: "", tags: [], owned: p.owned },
    );
  return out;
}

const PROJECTS = projectSlice([
  { name: "ops", id: "p-ops", owned: true },
  { name: "dev", id: "p-dev", owned: true },
  { name: "legacy", id: "p-legacy", owned: false },
]);

const member = (id: string, status = "accepted"): ImageMember => ({ member_id: id, status });

function run(
  images: ReturnType<typeof glanceImage>[],
  members: Record<string, ImageMember[]>,
  projects: DesiredProject[],
  set = imageSet(),
) {
  const source = { kind: "url" as const, url: URL_SRC.url, pin: { algorithm: "sha512" as const, value: "a" } };
  return plan(
    desiredOf({ manifests: [set], projects }),
    observedOf({
      project: PROJECTS,
      image: {
        wanted: true,
        images,
        versions: new Map([["golden", new Map([["debian-12", { version: V1, source }]])]]),
        members: new Map(Object.entries(members)),
        memberProblems: [],
      },
    }),
  );
}
const imageOps = (p: { operations: { kind: string }[] }) => p.operations.filter((o) => o.kind.endsWith("Image"));
const memberOps = (p: { operations: { kind: string }[] }) =>
  p.operations.filter((o) => o.kind === "shareImage" || o.kind === "unshareImage") as ImageOperation[];

describe("shared images' members", () => {
  it("a granted project that is not an accepted member is shared with; a second run writes nothing", () => {
    const img = glanceImage(V1);
    const first = run([img], { [img.id]: [member("p-ops", "pending")] }, granted("ops", "new"));
    expect(memberOps(first)).toMatchObject([
      { kind: "shareImage", imageId: img.id, project: { domain: "archway", name: "new" } },
      { kind: "shareImage", imageId: img.id, project: { domain: "archway", name: "ops" } },
    ]);
    const second = run([img], { [img.id]: [member("p-ops")] }, granted("ops"));
    expect(imageOps(second)).toEqual([]);
  });

  it("an Archway-owned project no longer granted is removed; a hand-added or non-owned member stays", () => {
    const img = glanceImage(V1);
    const p = run(
      [img],
      { [img.id]: [member("p-ops"), member("p-dev"), member("p-legacy"), member("someone-elses")] },
      granted("ops"),
    );
    expect(memberOps(p)).toEqual([
      expect.objectContaining({ kind: "unshareImage", imageId: img.id, projectId: "p-dev", project: "archway/dev" }),
    ]);
    expect(p.counts.revoke).toBe(1);
  });

  it("an image being made shared by this run gets its members after the visibility update", () => {
    const img = glanceImage(V1, { visibility: "private" });
    const p = run([img], {}, granted("ops"));
    expect(imageOps(p).map((o) => o.kind)).toEqual(["updateImage", "shareImage"]);
  });

  it("a kept older version follows the grants too; members that could not be read are left alone", () => {
    const old = glanceImage(V2, { name: `debian-12@${"b".repeat(12)}` });
    const cur = glanceImage(V1);
    const p = run([old, cur], { [old.id]: [member("p-dev")], [cur.id]: [member("p-ops")] }, granted("ops"));
    expect(memberOps(p)).toMatchObject([
      { kind: "shareImage", imageId: old.id, version: V2, project: { name: "ops" } },
      { kind: "unshareImage", imageId: old.id, version: V2, projectId: "p-dev" },
    ]);
    // Shared in Glance but its members not read (the read failed): nothing planned for it.
    expect(memberOps(run([cur], {}, granted("ops")))).toEqual([]);
  });

  it("images not asked to be shared have no member operations", () => {
    const img = glanceImage(V1, { visibility: "private" });
    const p = run([img], { [img.id]: [member("p-dev")] }, granted("ops"), imageSet({ visibility: "private" }));
    expect(memberOps(p)).toEqual([]);
  });
});

describe("reading members", () => {
  it("only active, shared images of sets asking for shared are read; a failed read is a problem", async () => {
    const shared = glanceImage(V1);
    const broken = glanceImage(V1, { id: "img-broken" });
    const priv = glanceImage(V1, { visibility: "private" });
    const queued = glanceImage(V1, { status: "queued" });
    const read: string[] = [];
    const glance = {
      async members(id: string) {
        read.push(id);
        if (id === "img-broken") throw new Error("boom");
        return [member("p-ops")];
      },
    } as unknown as GlanceClient;
    const wanted = wantedImages({ cloud, desired: desiredOf({ manifests: [imageSet()] }) });
    const out = await readMembers(glance, [shared, broken, priv, queued], wanted, 4);
    expect(read.sort()).toEqual([shared.id, "img-broken"].sort());
    expect([...out.members.keys()]).toEqual([shared.id]);
    expect(out.problems[0]).toMatch(/boom/);
    const none = wantedImages({ cloud, desired: desiredOf({ manifests: [imageSet({ visibility: "public" })] }) });
    read.length = 0;
    await readMembers(glance, [shared], none, 4);
    expect(read).toEqual([]);
  });
});
