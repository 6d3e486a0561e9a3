import { describe, expect, it } from "vitest";
import type { DesiredGroupGrant } from "../../../../src/policy/index.js";
import { DOMAIN, desiredOf, kinds, observedOf, person, plan, project, shadow, usersOf } from "./fixtures.js";

// Group grants in brokered clouds (`assignTo: group`): the desired state names them once per group, project, role.
const grant = (group: string, projectName: string, role = "member"): DesiredGroupGrant => ({
  group,
  project: projectName,
  projectDomain: DOMAIN,
  role,
  policies: ["teams"],
});
const member = (username: string, group: string) => ({
  identityId: `ldap:${username}`,
  group,
  domain: DOMAIN,
  policies: ["teams"],
});
const teamProject = (name: string) => ({
  name,
  domain: DOMAIN,
  tags: [],
  create: true,
  policies: ["teams"],
});
const [projects, teamA] = project(DOMAIN, "team-a");
const groupsOf = (entries: [string, string, string[]][]) =>
  new Map(entries.map(([name, id, members]) => [name, { id, members: new Set(members) }]));
const assigned = (groupId: string, projectId: string, roleId = "r-member") => ({ groupId, projectId, roleId });

describe("group grant planner, brokered clouds", () => {
  it("creates the team's group, its member and its role on a new project in one plan; no per-person grant", () => {
    const p = plan(
      desiredOf({
        users: [person("alice", { groups: ["team-a"] })],
        projects: [teamProject("team-a")],
        memberships: [member("alice", "team-a")],
        groupGrants: [grant("team-a", "team-a")],
      }),
      observedOf(),
    );
    expect(kinds(p)).toEqual(["createProject", "createUser", "createGroup", "addMember", "grantGroup"]);
    expect(p.operations.at(-1)).toEqual({
      kind: "grantGroup",
      group: "team-a",
      project: { domain: DOMAIN, name: "team-a" },
      role: "member",
      policies: ["teams"],
    });
  });

  it("writes nothing when the group holds its role and the member is in it", () => {
    const p = plan(
      desiredOf({
        users: [person("alice", { groups: ["team-a"] })],
        projects: [teamProject("team-a")],
        memberships: [member("alice", "team-a")],
        groupGrants: [grant("team-a", "team-a")],
      }),
      observedOf({
        project: projects,
        user: usersOf(shadow("alice")),
        group: groupsOf([["team-a", "g-a", ["u-alice"]]]),
        "group-grant": { list: [assigned("g-a", teamA.id)], roles: new Map([["member", "r-member"]]) },
      }),
    );
    expect(p.operations).toEqual([]);
  });

  it("creates the group of a grant even before any member's user can exist", () => {
    const p = plan(desiredOf({ groupGrants: [grant("team-a", "team-a")] }), observedOf({ project: projects }));
    expect(kinds(p)).toEqual(["createGroup", "grantGroup"]);
  });

  it("revokes a role a grant group no longer holds by policy, and every role of an owned group no policy names", () => {
    const [both, teamB] = project(DOMAIN, "team-b");
    both.set({ domain: DOMAIN, name: "team-a" }, teamA);
    const p = plan(
      desiredOf({
        projects: [teamProject("team-a")],
        groupGrants: [grant("team-a", "team-a")],
      }),
      observedOf({
        project: both,
        group: groupsOf([
          ["team-a", "g-a", []],
          ["gone", "g-gone", []],
        ]),
        "group-grant": {
          list: [assigned("g-a", teamA.id), assigned("g-a", teamB.id, "r-reader"), assigned("g-gone", teamB.id)],
          roles: new Map([
            ["member", "r-member"],
            ["reader", "r-reader"],
          ]),
        },
      }),
    );
    expect(p.operations).toEqual([
      { kind: "deleteGroup", name: "gone", groupId: "g-gone", policies: [] },
      expect.objectContaining({ kind: "revokeGroup", group: "team-a", project: `${DOMAIN}/team-b`, role: "reader" }),
      expect.objectContaining({ kind: "revokeGroup", group: "gone", project: `${DOMAIN}/team-b`, role: "member" }),
    ]);
    expect(p.destructive).toBe(3); // counted against sync.maxDeletesPerRun
  });

  it("leaves the roles of a group policies only put people in (`groups:`): those are the operator's", () => {
    const p = plan(
      desiredOf({ users: [person("alice")], memberships: [member("alice", "ops")] }),
      observedOf({
        project: projects,
        user: usersOf(shadow("alice")),
        group: groupsOf([["ops", "g-ops", ["u-alice"]]]),
        "group-grant": { list: [assigned("g-ops", teamA.id)], roles: new Map([["member", "r-member"]]) },
      }),
    );
    expect(p.operations).toEqual([]);
  });

  it("never touches a group Archway does not own: no grant, and the clash is a problem", () => {
    const observed = observedOf({ project: projects });
    const foreign = Object.assign(new Map(), { foreign: new Map([["team-a", "without Archway's mark"]]) });
    const p = plan(
      desiredOf({ groupGrants: [grant("team-a", "team-a")] }),
      observedOf({ project: projects, group: foreign }),
    );
    expect(p.operations).toEqual([]);
    expect(p.problems).toEqual([expect.stringContaining("group team-a exists without Archway's mark")]);
    expect(plan(desiredOf(), observed).operations).toEqual([]);
  });

  it("a person leaving the directory group leaves the Keystone group (a revoke, limited like any)", () => {
    const p = plan(
      desiredOf({
        users: [person("alice"), person("bob", { groups: ["team-a"] })],
        projects: [teamProject("team-a")],
        memberships: [member("bob", "team-a")],
        groupGrants: [grant("team-a", "team-a")],
      }),
      observedOf({
        project: projects,
        user: usersOf(shadow("alice"), shadow("bob")),
        group: groupsOf([["team-a", "g-a", ["u-alice", "u-bob"]]]),
        "group-grant": { list: [assigned("g-a", teamA.id)], roles: new Map([["member", "r-member"]]) },
      }),
    );
    expect(p.operations).toEqual([
      { kind: "removeMember", group: "team-a", groupId: "g-a", userId: "u-alice", username: "alice", policies: [] },
    ]);
    expect(p.destructive).toBe(1);
  });

  it("a just-in-time run grants what is missing and revokes nothing", () => {
    const p = plan(
      desiredOf({
        users: [person("alice", { groups: ["team-a"] })],
        projects: [teamProject("team-a")],
        memberships: [member("alice", "team-a")],
        groupGrants: [grant("team-a", "team-a", "reader")],
      }),
      observedOf({
        project: projects,
        user: usersOf(shadow("alice")),
        group: groupsOf([["team-a", "g-a", ["u-alice"]]]),
        "group-grant": {
          list: [assigned("g-a", teamA.id)],
          roles: new Map([
            ["member", "r-member"],
            ["reader", "r-reader"],
          ]),
        },
      }),
      { people: new Set(["ldap:alice"]) },
    );
    expect(kinds(p)).toEqual(["grantGroup"]);
  });
});
