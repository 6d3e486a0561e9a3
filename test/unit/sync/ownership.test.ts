import { describe, expect, it } from "vitest";
import { ConfigSchema } from "../../../src/config/index.js";
import type { Group, Project, User } from "../../../src/openstack/index.js";
import type { DesiredCloudState } from "../../../src/policy/index.js";
import {
  DEPLOYMENT_ATTR,
  deploymentTag,
  emptyDesired,
  extraMark,
  IDENTITY_ATTR,
  IDP_MARK,
  idpMark,
  idpOwner,
  type ObservedCloud,
  type OwnedUser,
  type Ownership,
  ownedUser,
  ownershipOf,
  PROJECT_TAG,
  planCloud,
  projectMark,
  type SyncInput,
  USER_MARK,
} from "../../../src/sync/index.js";
import { ProjectMap } from "../../../src/sync/project-ref.js";
import type { ObservedProject } from "../../../src/sync/resources/project/index.js";
import { cloud, DOMAIN, OPTS, observedOf } from "./resources/fixtures.js";

const A: Ownership = { deploymentId: "a", adoptUnmarked: false };
const ADOPT: Ownership = { deploymentId: "a", adoptUnmarked: true };

const project = (tags: string[]): Pick<Project, "tags"> => ({ tags });
const user = (extra: Record<string, unknown>, domain = "d1"): User =>
  ({ id: "u1", name: "alice", domain_id: domain, enabled: true, options: {}, ...extra }) as User;

describe("ownership marks", () => {
  it("a project is this deployment's only with both tags; another deployment's, legacy and unmarked are not", () => {
    expect(projectMark(project([PROJECT_TAG, deploymentTag("a")]), A)).toEqual({ owner: "self", remark: false });
    expect(projectMark(project([PROJECT_TAG, deploymentTag("b")]), A)).toEqual({ owner: "other", deploymentId: "b" });
    // Marked for two deployments (a hand edit): not only ours, so not ours.
    expect(projectMark(project([PROJECT_TAG, deploymentTag("a"), deploymentTag("b")]), A).owner).toBe("other");
    expect(projectMark(project([PROJECT_TAG]), A)).toEqual({ owner: "other", deploymentId: null });
    expect(projectMark(project(["ops", deploymentTag("a")]), A)).toEqual({ owner: "none" });
    expect(projectMark(project([]), A)).toEqual({ owner: "none" });
  });

  it("the old mark alone is adopted (and re-marked) only with adoptUnmarked; another deployment's never", () => {
    expect(projectMark(project([PROJECT_TAG]), ADOPT)).toEqual({ owner: "self", remark: true });
    expect(projectMark(project([PROJECT_TAG, deploymentTag("b")]), ADOPT).owner).toBe("other");
    expect(extraMark(user({ [USER_MARK]: true }), "d1", ADOPT)).toEqual({ owner: "self", remark: true });
    expect(extraMark(user({ [USER_MARK]: true, [DEPLOYMENT_ATTR]: "b" }), "d1", ADOPT).owner).toBe("other");
  });

  it("users and groups: the marker attribute and the deployment attribute, in Archway's domain only", () => {
    const own = user({ [USER_MARK]: true, [DEPLOYMENT_ATTR]: "a", [IDENTITY_ATTR]: "s:alice" });
    expect(extraMark(own, "d1", A)).toEqual({ owner: "self", remark: false });
    expect(extraMark(own, "other-domain", A)).toEqual({ owner: "none" });
    expect(extraMark(user({ [USER_MARK]: true, [DEPLOYMENT_ATTR]: "b" }), "d1", A)).toEqual({
      owner: "other",
      deploymentId: "b",
    });
    expect(extraMark(user({ [USER_MARK]: true }), "d1", A)).toEqual({ owner: "other", deploymentId: null });
    expect(extraMark(user({ [DEPLOYMENT_ATTR]: "a" }), "d1", A)).toEqual({ owner: "none" });
    const group = { id: "g1", name: "g", domain_id: "d1", [USER_MARK]: true, [DEPLOYMENT_ATTR]: "a" } as Group;
    expect(extraMark(group, "d1", A).owner).toBe("self");
    expect(ownedUser(own, "d1", A)).toMatchObject({ identityId: "s:alice", remark: false });
    expect(ownedUser(own, "d1", { deploymentId: "b", adoptUnmarked: true })).toBeNull();
  });

  it("identity providers: the description names the deployment; the bare old description is legacy", () => {
    expect(idpOwner(idpMark("a"), A)).toEqual({ owner: "self", remark: false });
    expect(idpOwner(idpMark("b"), A)).toEqual({ owner: "other", deploymentId: "b" });
    expect(idpOwner(IDP_MARK, A)).toEqual({ owner: "other", deploymentId: null });
    expect(idpOwner(IDP_MARK, ADOPT)).toEqual({ owner: "self", remark: true });
    expect(idpOwner("made by hand", ADOPT)).toEqual({ owner: "none" });
    expect(idpOwner(null, A)).toEqual({ owner: "none" });
  });

  it("project tags fit Keystone's rules: no ',' or '/', at most 255 characters", () => {
    const tag = deploymentTag("a".repeat(32));
    expect(tag.length).toBeLessThanOrEqual(255);
    expect(tag).not.toMatch(/[,/]/);
  });
});

describe("deploymentId in the configuration", () => {
  it("is required outside demo mode, defaults to demo in demo mode, and is a short slug", () => {
    expect(() => ownershipOf(ConfigSchema.parse({}))).toThrow(/deploymentId is required outside demo mode/);
    expect(ownershipOf(ConfigSchema.parse({ demo: true }))).toEqual({ deploymentId: "demo", adoptUnmarked: false });
    expect(ownershipOf(ConfigSchema.parse({ deploymentId: "prod-eu", sync: { adoptUnmarked: true } }))).toEqual({
      deploymentId: "prod-eu",
      adoptUnmarked: true,
    });
    for (const bad of ["Prod", "-x", "a_b", "a".repeat(33), "a,b", "a/b", ""])
      expect(ConfigSchema.safeParse({ deploymentId: bad }).success).toBe(false);
  });
});

function desired(projects: string[], people: string[] = []): DesiredCloudState {
  const d = emptyDesired(cloud.id);
  for (const name of projects)
    d.projects.push({ name, domain: DOMAIN, description: "", tags: [], create: true, policies: ["p"] });
  for (const who of people) {
    d.users.push({ identityId: `s:${who}`, username: who, groups: [] });
    for (const name of projects)
      d.assignments.push({
        identityId: `s:${who}`,
        project: name,
        projectDomain: DOMAIN,
        role: "member",
        policies: ["p"],
      });
  }
  return d;
}

/** Plans `d` against `observed` as the deployment `ownership`. */
function planAs(d: DesiredCloudState, observed: ObservedCloud, ownership: Ownership) {
  const input: SyncInput = { cloud, desired: d, ownership };
  return planCloud(input, observed, OPTS);
}

const observedProject = (name: string, id: string, tags: string[], owned: boolean, extra = {}): ObservedProject => ({
  id,
  name,
  domainId: "d1",
  description: "",
  tags,
  owned,
  ...extra,
});

/** Observed projects of Archway's domain. */
function projectsOf(...list: ObservedProject[]): ProjectMap<ObservedProject> {
  const map = new ProjectMap<ObservedProject>();
  for (const p of list) map.set({ domain: DOMAIN, name: p.name }, p);
  return map;
}

describe("plans with several deployments on one Keystone", () => {
  it("creates projects with both marks", () => {
    const plan = planAs(desired(["ops"]), observedOf(), A);
    expect(plan.operations).toContainEqual(
      expect.objectContaining({ kind: "createProject", tags: [PROJECT_TAG, deploymentTag("a")].sort() }),
    );
  });

  it("another deployment's project of the same name is a conflict: granted on, never updated", () => {
    const theirs = observedProject("ops", "p1", [PROJECT_TAG, deploymentTag("b")], false, {
      whose: "marked by Archway deployment 'b'",
    });
    const plan = planAs(desired(["ops"], ["ann"]), observedOf({ project: projectsOf(theirs) }), A);
    expect(plan.problems).toContainEqual(
      expect.stringMatching(new RegExp(`project ${DOMAIN}/ops exists marked by Archway deployment 'b'`)),
    );
    expect(plan.operations.map((o) => o.kind)).not.toContain("updateProject");
    expect(plan.operations.map((o) => o.kind)).not.toContain("createProject");
    expect(plan.orphans).toEqual([]);
  });

  it("another deployment's user or group of the same name is a conflict, not adopted", () => {
    const d = desired([], ["ann"]);
    d.users.push({ identityId: "s:bob", username: "bob", groups: [] });
    d.memberships.push({ identityId: "s:ann", group: "team", domain: DOMAIN, policies: ["g"] });
    d.memberships.push({ identityId: "s:bob", group: "team", domain: DOMAIN, policies: ["g"] });
    const theirs = "marked by Archway deployment 'b'";
    const plan = planAs(
      d,
      observedOf({
        user: { byIdentity: new Map(), foreignNames: new Map([["ann", theirs]]) },
        group: Object.assign(new Map(), { foreign: new Map([["team", theirs]]) }),
      }),
      A,
    );
    expect(plan.problems).toContainEqual(`user ann exists in domain ${DOMAIN} ${theirs}: not adopted`);
    expect(plan.problems).toContainEqual(`group team exists ${theirs}: not adopted`);
    // bob is created; neither the group nor a membership of it is.
    expect(plan.operations.map((o) => o.kind)).toEqual(["createUser"]);
  });

  it("reports this deployment's projects no policy names any more as orphans, and deletes nothing", () => {
    const mine = observedProject("old", "p2", [PROJECT_TAG, deploymentTag("a")], true);
    const theirs = observedProject("gone", "p3", [PROJECT_TAG, deploymentTag("b")], false, { whose: "b" });
    const plan = planAs(desired(["ops"]), observedOf({ project: projectsOf(mine, theirs) }), A);
    expect(plan.orphans).toEqual([`${DOMAIN}/old`]);
    expect(plan.operations.map((o) => o.kind)).toEqual(["createProject"]);
    expect(plan.destructive).toBe(0);
  });

  it("adoption re-marks old-mark users, groups and projects, desired or not", () => {
    const legacy = (name: string, id: string) => observedProject(name, id, [PROJECT_TAG], true, { remark: true });
    const ann: OwnedUser = {
      id: "u1",
      name: "ann",
      enabled: true,
      identityId: "s:ann",
      keyVersion: 1,
      keys: {},
      optionsOk: true,
      remark: true,
    };
    const plan = planAs(
      desired(["ops"], ["ann"]),
      observedOf({
        project: projectsOf(legacy("ops", "p1"), legacy("old", "p2")),
        user: { byIdentity: new Map([["s:ann", ann]]), foreignNames: new Map() },
        group: new Map([["team", { id: "g1", members: new Set<string>(), remark: true }]]),
      }),
      ADOPT,
    );
    const tags = [PROJECT_TAG, deploymentTag("a")].sort();
    expect(plan.operations).toContainEqual(expect.objectContaining({ kind: "updateProject", projectId: "p1", tags }));
    expect(plan.operations).toContainEqual(expect.objectContaining({ kind: "updateProject", projectId: "p2", tags }));
    expect(plan.operations).toContainEqual(
      expect.objectContaining({ kind: "updateUser", userId: "u1", changes: { mark: true } }),
    );
    expect(plan.operations).toContainEqual(expect.objectContaining({ kind: "markGroup", groupId: "g1" }));
    expect(plan.orphans).toEqual([`${DOMAIN}/old`]);
  });
});
