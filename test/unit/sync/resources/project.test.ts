import { describe, expect, it } from "vitest";
import { deploymentTag, PROJECT_TAG } from "../../../../src/sync/index.js";
import { ProjectMap, projectLabel } from "../../../../src/sync/project-ref.js";
import type { ObservedProject } from "../../../../src/sync/resources/project/index.js";
import { DOMAIN, desiredOf, kinds, observedOf, plan, project } from "./fixtures.js";

const wanted = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  domain: DOMAIN,
  description: `project ${name}`,
  tags: [],
  create: true,
  policies: ["team"],
  ...extra,
});

describe("project planner", () => {
  it("creates a project a policy creates, tagged as Archway's", () => {
    const p = plan(desiredOf({ projects: [wanted("web")] }), observedOf());
    expect(p.operations).toEqual([
      {
        kind: "createProject",
        domain: DOMAIN,
        name: "web",
        description: "project web",
        tags: [PROJECT_TAG, deploymentTag("t")].sort(),
        policies: ["team"],
      },
    ]);
    expect(p.counts.create).toBe(1);
  });

  it("no-op when the owned project matches", () => {
    const [map] = project(DOMAIN, "web", { description: "project web" });
    expect(plan(desiredOf({ projects: [wanted("web")] }), observedOf({ project: map })).operations).toEqual([]);
  });

  it("updates only what differs on an owned project", () => {
    const [map] = project(DOMAIN, "web", { description: "old" });
    expect(plan(desiredOf({ projects: [wanted("web")] }), observedOf({ project: map })).operations).toEqual([
      expect.objectContaining({ kind: "updateProject", projectId: `p-${DOMAIN}-web`, description: "project web" }),
    ]);
    const [tagged] = project(DOMAIN, "web", { description: "project web" });
    const p = plan(desiredOf({ projects: [wanted("web", { tags: ["env:prod"] })] }), observedOf({ project: tagged }));
    expect(p.operations).toEqual([
      expect.objectContaining({ kind: "updateProject", tags: ["archway:dep:t", "archway:managed", "env:prod"] }),
    ]);
    expect(p.operations[0]).not.toHaveProperty("description");
  });

  it("never changes a project without Archway's tag; says so when a policy would create it", () => {
    const [map] = project("Default", "ops", { tags: [], owned: false, description: "by hand" });
    const desired = desiredOf({ projects: [wanted("ops", { domain: "Default" })] });
    const p = plan(desired, observedOf({ project: map }));
    expect(p.operations).toEqual([]);
    expect(p.problems).toEqual([expect.stringContaining("exists without Archway's mark")]);
    const granted = plan(
      desiredOf({ projects: [wanted("ops", { domain: "Default", create: false })] }),
      observedOf({ project: map }),
    );
    expect(granted).toMatchObject({ operations: [], problems: [] });
  });

  it("reports a missing project no policy creates, and a missing domain, instead of creating", () => {
    const p = plan(
      desiredOf({ projects: [wanted("ops", { create: false }), wanted("x", { domain: "Nowhere" })] }),
      observedOf(),
    );
    expect(p.operations).toEqual([]);
    expect(p.problems).toEqual([
      expect.stringContaining(`project ${DOMAIN}/ops does not exist and no policy creates it`),
      "project Nowhere/x: domain Nowhere does not exist",
    ]);
  });

  it("creates in Archway's own domain even before the domain exists (ensureDomain runs first)", () => {
    const p = plan(desiredOf({ projects: [wanted("web")] }), observedOf({ domain: { id: null, byName: new Map() } }));
    expect(kinds(p)).toEqual(["ensureDomain", "createProject"]);
  });

  it("leaves owned projects no policy names any more in place", () => {
    const [map] = project(DOMAIN, "old");
    expect(plan(desiredOf(), observedOf({ project: map })).operations).toEqual([]);
  });

  it("a '/' in a domain or project name never makes two projects one", () => {
    // `a/b` + `c` and `a` + `b/c` would both be "a/b/c" as one joined key.
    const observed = new ProjectMap<ObservedProject>().set(
      { domain: "a/b", name: "c" },
      { id: "p1", name: "c", domainId: "dab", description: "", tags: [deploymentTag("t"), PROJECT_TAG], owned: true },
    );
    const byName = new Map([
      ["a/b", "dab"],
      ["a", "da"],
    ]);
    const desired = desiredOf({
      projects: [
        { name: "c", domain: "a/b", tags: [], create: true, policies: ["p"], description: "" },
        { name: "b/c", domain: "a", tags: [], create: true, policies: ["p"], description: "" },
      ],
    });
    const p = plan(desired, observedOf({ project: observed, domain: { id: "d1", byName } }));
    expect(p.operations).toEqual([expect.objectContaining({ kind: "createProject", domain: "a", name: "b/c" })]);
    expect(observed.has({ domain: "a", name: "b/c" })).toBe(false);
    expect(projectLabel({ domain: "a", name: "b/c" })).toBe("a/b/c"); // display only
  });
});
