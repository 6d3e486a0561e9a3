import { describe, expect, it } from "vitest";
import { type CompiledFlavorSet, type FlavorSpec, FlavorSpecSchema } from "../../../../src/policy/manifests/index.js";
import { ProjectMap } from "../../../../src/sync/project-ref.js";
import {
  FLAVOR_MARK,
  FLAVOR_SET_MARK,
  type FlavorsObserved,
  flavorMark,
  type ObservedFlavor,
} from "../../../../src/sync/resources/flavor/index.js";
import { DOMAIN, desiredOf, kinds, OWN, observedOf, plan, project } from "./fixtures.js";

const spec = (over: Record<string, unknown> = {}): FlavorSpec =>
  FlavorSpecSchema.parse({ name: "m1.small", vcpus: 2, ram: 2048, disk: 20, ...over });
const set = (name: string, ...flavors: FlavorSpec[]): CompiledFlavorSet => ({
  kind: "FlavorSet",
  name,
  origin: `${name}.yaml:1`,
  clouds: ["cloud-1"],
  flavors,
});
const want = (...sets: CompiledFlavorSet[]) => desiredOf({ manifests: sets });
const MARKS = { [FLAVOR_MARK]: OWN.deploymentId, [FLAVOR_SET_MARK]: "base" };

/** A flavor in Nova; owned by this deployment (set `base`) unless its extra specs say otherwise. */
function flavor(over: Partial<ObservedFlavor> = {}): ObservedFlavor {
  const extraSpecs = over.extraSpecs ?? MARKS;
  return {
    id: `f-${over.name ?? "m1.small"}`,
    name: "m1.small",
    vcpus: 2,
    ram: 2048,
    disk: 20,
    ephemeral: 0,
    swap: 0,
    isPublic: true,
    description: null,
    ...over,
    extraSpecs,
    mark: flavorMark(extraSpecs, OWN),
  };
}
const nova = (list: ObservedFlavor[], extra: Partial<FlavorsObserved> = {}): { flavor: FlavorsObserved } => ({
  flavor: { compute: true, byName: new Map(list.map((f) => [f.name, f])), projectIds: new ProjectMap(), ...extra },
});

describe("flavor planner", () => {
  it("creates a set's flavors with Archway's marks among the extra specs", () => {
    const p = plan(
      want(set("base", spec({ extraSpecs: { "hw:cpu_policy": "dedicated" }, description: "small" }))),
      observedOf(),
    );
    expect(p.operations).toEqual([
      {
        kind: "createFlavor",
        name: "m1.small",
        vcpus: 2,
        ram: 2048,
        disk: 20,
        ephemeral: 0,
        swap: 0,
        isPublic: true,
        description: "small",
        extraSpecs: { "hw:cpu_policy": "dedicated", ...MARKS },
        policies: ["base"],
      },
    ]);
    expect(p.problems).toEqual([]);
  });

  it("writes nothing when Nova holds the flavor as the set says", () => {
    expect(plan(want(set("base", spec())), observedOf(nova([flavor()]))).operations).toEqual([]);
  });

  it("a changed extra spec updates only it; one no longer asked for is unset", () => {
    const seen = flavor({ extraSpecs: { ...MARKS, "hw:cpu_policy": "shared", "hw:mem_page_size": "large" } });
    const p = plan(want(set("base", spec({ extraSpecs: { "hw:cpu_policy": "dedicated" } }))), observedOf(nova([seen])));
    expect(p.operations).toEqual([
      {
        kind: "updateFlavor",
        name: "m1.small",
        flavorId: "f-m1.small",
        set: { "hw:cpu_policy": "dedicated" },
        unset: ["hw:mem_page_size"],
        policies: ["base"],
      },
    ]);
    expect(p.destructive).toBe(0);
  });

  it("a changed description is updated in place", () => {
    const p = plan(want(set("base", spec({ description: "new" }))), observedOf(nova([flavor({ description: "old" })])));
    expect(p.operations).toEqual([
      { kind: "updateFlavor", name: "m1.small", flavorId: "f-m1.small", description: "new", policies: ["base"] },
    ]);
  });

  it("changed vcpus recreate the flavor (Nova cannot resize one): destructive, under the deletes limit", () => {
    const p = plan(want(set("base", spec({ vcpus: 4 }))), observedOf(nova([flavor()])));
    expect(p.operations).toEqual([
      expect.objectContaining({ kind: "recreateFlavor", flavorId: "f-m1.small", vcpus: 4, changed: ["vcpus"] }),
    ]);
    expect(p.destructive).toBe(1);
    expect(p.counts.update).toBe(1);
  });

  it("ram, disk, ephemeral, swap and visibility recreate too", () => {
    const p = plan(
      want(set("base", spec({ ram: 4096, disk: 40, ephemeral: 1, swap: 512, public: false }))),
      observedOf(nova([flavor()])),
    );
    expect(p.operations[0]).toMatchObject({
      kind: "recreateFlavor",
      changed: ["ram", "disk", "ephemeral", "swap", "isPublic"],
    });
  });

  it("deletes an owned flavor no set asks for any more (destructive), never a hand-made or foreign one", () => {
    const observed = observedOf(
      nova([
        flavor({ name: "old" }),
        flavor({ name: "byhand", extraSpecs: {} }),
        flavor({ name: "theirs", extraSpecs: { [FLAVOR_MARK]: "other" } }),
      ]),
    );
    const p = plan(desiredOf(), observed);
    expect(p.operations).toEqual([{ kind: "deleteFlavor", name: "old", flavorId: "f-old", policies: [] }]);
    expect(p.destructive).toBe(1);
    expect(p.problems).toEqual([]);
  });

  it("a hand-made flavor with a wanted name is a problem and never touched", () => {
    const p = plan(want(set("base", spec({ vcpus: 8 }))), observedOf(nova([flavor({ extraSpecs: { "hw:x": "1" } })])));
    expect(p.operations).toEqual([]);
    expect(p.problems).toEqual(["flavor m1.small exists without Archway's mark: not changed (FlavorSet base)"]);
  });

  it("another deployment's flavor is foreign: a problem under a wanted name, never changed or deleted", () => {
    const theirs = flavor({ extraSpecs: { [FLAVOR_MARK]: "prod-eu", [FLAVOR_SET_MARK]: "base" } });
    const p = plan(want(set("base", spec({ vcpus: 8 }))), observedOf(nova([theirs])));
    expect(p.operations).toEqual([]);
    expect(p.problems).toEqual([
      "flavor m1.small exists marked by Archway deployment 'prod-eu': not changed (FlavorSet base)",
    ]);
  });

  it("the mark without a deployment is adopted only with adoptUnmarked (then re-marked)", () => {
    const old = flavor({ extraSpecs: { [FLAVOR_MARK]: "", [FLAVOR_SET_MARK]: "base" } });
    expect(old.mark).toEqual({ owner: "other", deploymentId: null });
    const adopting = { deploymentId: OWN.deploymentId, adoptUnmarked: true };
    expect(flavorMark(old.extraSpecs, adopting)).toEqual({ owner: "self", remark: true });
    const p = plan(
      want(set("base", spec())),
      observedOf(nova([{ ...old, mark: flavorMark(old.extraSpecs, adopting) }])),
    );
    expect(p.operations).toEqual([
      expect.objectContaining({ kind: "updateFlavor", set: { [FLAVOR_MARK]: OWN.deploymentId } }),
    ]);
  });

  it("a private flavor is given to the projects the set names: owned, created in this run, or looked up", () => {
    const [projects] = project(DOMAIN, "web");
    const lookedUp = new ProjectMap<string>().set({ domain: "Default", name: "ops" }, "p-ops");
    const desired = want(
      set(
        "base",
        spec({ public: false, projects: ["web", "new"] }),
        spec({ name: "m1.ops", public: false, projects: ["ops"], projectDomain: "Default" }),
      ),
    );
    desired.projects.push({ domain: DOMAIN, name: "new", description: "", tags: [], create: true, policies: ["p"] });
    const p = plan(desired, observedOf({ project: projects, ...nova([], { projectIds: lookedUp }) }));
    expect(kinds(p)).toEqual([
      "createProject",
      "createFlavor",
      "grantFlavor",
      "grantFlavor",
      "createFlavor",
      "grantFlavor",
    ]);
    expect(p.operations.filter((o) => o.kind === "grantFlavor").map((o) => "project" in o && o.project)).toEqual([
      { domain: DOMAIN, name: "new" },
      { domain: DOMAIN, name: "web" },
      { domain: "Default", name: "ops" },
    ]);
  });

  it("access: given where missing, taken where no set names the project (a revoke), and a missing project is a problem", () => {
    const [projects] = project(DOMAIN, "web");
    projects.set({ domain: DOMAIN, name: "db" }, { ...project(DOMAIN, "db")[1] });
    const seen = flavor({ isPublic: false, access: ["p-stray", `p-${DOMAIN}-db`] });
    const p = plan(
      want(set("base", spec({ public: false, projects: ["web", "db", "ghost"] }))),
      observedOf({ project: projects, ...nova([seen]) }),
    );
    expect(p.operations).toEqual([
      { kind: "grantFlavor", flavor: "m1.small", project: { domain: DOMAIN, name: "web" }, policies: ["base"] },
      {
        kind: "revokeFlavor",
        flavor: "m1.small",
        flavorId: "f-m1.small",
        projectId: "p-stray",
        project: "p-stray",
        policies: [],
      },
    ]);
    expect(p.problems).toEqual([`flavor m1.small: project ${DOMAIN}/ghost does not exist, not given the flavor`]);
    expect(p.destructive).toBe(1);
  });

  it("two sets defining one name differently: a plan problem for this cloud, the flavor neither made nor deleted", () => {
    const observed = observedOf(nova([flavor()]));
    const p = plan(want(set("a", spec()), set("b", spec({ vcpus: 4 }))), observed);
    expect(p.operations).toEqual([]);
    expect(p.problems).toEqual([
      "flavor m1.small is defined differently by FlavorSets a, b: not synced until they agree",
    ]);
  });

  it("two sets defining one name alike share it: both named in the mark", () => {
    const p = plan(want(set("b", spec()), set("a", spec())), observedOf());
    expect(p.operations).toEqual([
      expect.objectContaining({
        kind: "createFlavor",
        extraSpecs: { [FLAVOR_MARK]: OWN.deploymentId, [FLAVOR_SET_MARK]: "a,b" },
        policies: ["a", "b"],
      }),
    ]);
  });

  it("just-in-time runs plan nothing for flavors", () => {
    const p = plan(want(set("base", spec())), observedOf(nova([flavor({ name: "old" })])), {
      people: new Set(["ldap:alice"]),
    });
    expect(p.operations).toEqual([]);
  });

  it("a cloud without compute in its catalog: a problem when a set targets it, silence otherwise", () => {
    const none = observedOf({ flavor: { compute: false, byName: new Map(), projectIds: new ProjectMap() } });
    expect(plan(want(set("base", spec())), none).problems).toEqual([
      "no compute service in the cloud's catalog: flavors not synced (base)",
    ]);
    expect(plan(desiredOf(), none).problems).toEqual([]);
  });

  it("a FlavorSet cannot write Archway's marks, nor keys Nova refuses", () => {
    expect(
      FlavorSpecSchema.safeParse({ name: "x", vcpus: 1, ram: 1, disk: 0, extraSpecs: { "archway:managed": "y" } })
        .success,
    ).toBe(false);
    expect(
      FlavorSpecSchema.safeParse({ name: "x", vcpus: 1, ram: 1, disk: 0, extraSpecs: { "a/b": "y" } }).success,
    ).toBe(false);
  });
});
