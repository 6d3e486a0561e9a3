import { describe, expect, it } from "vitest";
import type { CloudAccess, DesiredAccess } from "../../../src/policy/index.js";
import {
  entitlementsFrom,
  entitlementsOf,
  facadeProjectId,
  projectInCloud,
  projectScopeId,
} from "../../../src/tokens/index.js";
import { allow, compileOk, person } from "../policy/fixtures.js";

/** One cloud's access: each `[domain, name, ...roles]` a project with those roles (none: held without a role). */
function held(...projects: [string, string, ...string[]][]): CloudAccess {
  return {
    projects: projects.map(([domain, name]) => ({ name, domain, tags: [], create: true, policies: ["p"] })),
    assignments: projects.flatMap(([domain, name, ...roles]) =>
      roles.map((role) => ({ identityId: "corp:bob", project: name, projectDomain: domain, role, policies: ["p"] })),
    ),
    keys: [],
    memberships: [],
  };
}

describe("entitlements -> facade projects and regions", () => {
  // bob: ops in cloud-1 (admin) and cloud-2 (member), u-bob in cloud-1 only, store-ops in cloud-2 and cloud-3.
  const bob = (): DesiredAccess =>
    new Map([
      ["cloud-1", held(["archway", "ops", "admin", "member"], ["archway", "u-bob", "member"])],
      ["cloud-2", held(["archway", "ops", "member"], ["archway", "store-ops", "member"])],
      ["cloud-3", held(["archway", "store-ops", "member"])],
    ]);

  it("shows a project once, with the clouds where the person holds it as its regions", () => {
    const e = entitlementsFrom(bob());
    expect(e.projects.map((p) => [p.name, p.regionIds])).toEqual([
      ["ops", ["cloud-1", "cloud-2"]],
      ["store-ops", ["cloud-2", "cloud-3"]],
      ["u-bob", ["cloud-1"]],
    ]);
    const ops = e.byName("ops");
    expect(ops?.id).toBe(projectScopeId("archway", "ops"));
    expect(ops?.alias).toBe(false);
    expect(ops?.roles).toEqual(["admin", "member"]);
    expect(ops?.regions.get("cloud-2")).toMatchObject({
      keystoneName: "ops",
      keystoneDomain: "archway",
      roles: ["member"],
    });
    expect(e.cloudProjects.map((p) => p.name)).toEqual([
      "cloud-1:ops",
      "cloud-1:u-bob",
      "cloud-2:ops",
      "cloud-2:store-ops",
      "cloud-3:store-ops",
    ]);
  });

  it("resolves the project a call to a cloud runs in: the scoped project's region there, or nothing", () => {
    const e = entitlementsFrom(bob());
    const ops = e.byName("ops");
    expect(projectInCloud(ops, "cloud-2")).toMatchObject({ cloudId: "cloud-2", keystoneName: "ops" });
    expect(projectInCloud(ops, "cloud-1")).toMatchObject({ cloudId: "cloud-1", keystoneName: "ops" });
    expect(projectInCloud(ops, "cloud-3")).toBeUndefined(); // bob has store-ops there, not ops
    expect(projectInCloud(e.byName("u-bob"), "cloud-2")).toBeUndefined();
    expect(projectInCloud(e.byName("cloud-1:u-bob"), "cloud-2")).toBeUndefined();
    expect(projectInCloud(e.byName("cloud-1:ops"), "cloud-2")).toBeUndefined();
    expect(projectInCloud(e.byName("cloud-1:ops"), "cloud-1")).toMatchObject({ cloudId: "cloud-1" });
    expect(projectInCloud(undefined, "cloud-1")).toBeUndefined(); // unscoped
    expect(projectInCloud(e.byName("ops"), "cloud-9")).toBeUndefined();
  });

  it("takes `<cloud>:<project>` as a single-region alias, by name and by id, the same object each time", () => {
    const e = entitlementsFrom(bob());
    const alias = e.byName("cloud-2:ops");
    expect(alias).toMatchObject({ name: "cloud-2:ops", alias: true, regionIds: ["cloud-2"], roles: ["member"] });
    expect(alias?.id).toBe(facadeProjectId("cloud-2", "archway", "ops"));
    expect(e.byId(alias?.id ?? "")).toBe(alias);
    expect(e.byName("cloud-2:ops")).toBe(alias);
    expect(e.byName("cloud-3:ops")).toBeUndefined();
    expect(e.byName("cloud-2:u-bob")).toBeUndefined();
    expect(e.byId(projectScopeId("archway", "ops"))).toBe(e.byName("ops"));
    expect(e.byId("nope")).toBeUndefined();
  });

  it("gives the same ids to everyone, and never the same id to two projects or a project and an alias", () => {
    const other = entitlementsFrom(new Map([["cloud-7", held(["archway", "ops", "reader"])]]));
    expect(other.byName("ops")?.id).toBe(entitlementsFrom(bob()).byName("ops")?.id);
    const ids = [
      projectScopeId("a/b", "c"),
      projectScopeId("a", "b/c"),
      projectScopeId("a:b", "c"),
      projectScopeId("a", "b:c"),
      projectScopeId("ab", "c"),
      facadeProjectId("c1", "a", "b"),
      facadeProjectId("c1:a", "", "b"),
      facadeProjectId("c1", "a:b", ""),
      projectScopeId("c1", "a"),
    ];
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{32}$/);
  });

  it("qualifies a name held in two Keystone domains with the domain, keeping both apart", () => {
    const e = entitlementsFrom(
      new Map([
        ["cloud-1", held(["archway", "ops", "member"])],
        ["cloud-2", held(["retail", "ops", "member"])],
      ]),
    );
    expect(e.projects.map((p) => [p.name, p.regionIds])).toEqual([
      ["archway/ops", ["cloud-1"]],
      ["retail/ops", ["cloud-2"]],
    ]);
    expect(e.byName("ops")).toBeUndefined();
    expect(projectInCloud(e.byName("archway/ops"), "cloud-2")).toBeUndefined();
    expect(e.byName("cloud-2:retail/ops")?.regionIds).toEqual(["cloud-2"]);
  });

  it("leaves out a project without a role, and shares the work of clouds with the same access", () => {
    const shared = held(["archway", "store-ops", "member"], ["archway", "viewing" /* no role */]);
    const access: DesiredAccess = new Map(Array.from({ length: 1000 }, (_, i) => [`store-${i}`, shared] as const));
    const e = entitlementsFrom(access);
    expect(e.projects.map((p) => p.name)).toEqual(["store-ops"]);
    expect(e.byName("store-ops")?.regionIds).toHaveLength(1000);
    expect(e.cloudProjects).toHaveLength(1000);
  });

  it("from the policies: a contractor's projects have no region in an edge cloud a deny policy covers", () => {
    const policies = compileOk(
      [
        allow("ops", "  subjects: { groups: { anyOf: [devs] } }\n  grants: [{ project: ops, roles: [member] }]"),
        allow(
          "personal",
          "  subjects: { groups: { anyOf: [devs] } }\n  clouds: { labels: { kind: region } }\n  grants: [{ project: 'u-{{ username }}', roles: [member] }]",
        ),
        "apiVersion: archway.dev/v1\nkind: DenyPolicy\nmetadata: { name: no-edge }\nspec:\n  subjects: { groups: { anyOf: [contractors] } }\n  clouds: { labels: { kind: edge } }\n",
      ].join("---\n"),
    );
    const bobs = entitlementsOf(person({ username: "bob", groups: ["devs"] }), policies);
    expect(bobs.byName("ops")?.regionIds).toEqual(["region-1", "region-2", "store-0001", "store-0002", "store-0100"]);
    const carols = entitlementsOf(person({ username: "carol", groups: ["devs", "contractors"] }), policies);
    expect(carols.projects.map((p) => [p.name, p.regionIds])).toEqual([
      ["ops", ["region-1", "region-2"]],
      ["u-carol", ["region-1", "region-2"]],
    ]);
    expect(carols.byName("store-0001:ops")).toBeUndefined();
  });
});
