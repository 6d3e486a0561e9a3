import { describe, expect, it } from "vitest";
import type { DesiredGroupGrant } from "../../../../src/policy/index.js";
import { DEPLOYMENT_ATTR, observeCloud, USER_MARK } from "../../../../src/sync/index.js";
import { PHASES } from "../../../../src/sync/resource.js";
import { groups, stepOf } from "../../../../src/sync/resources/index.js";
import {
  cloud,
  DOMAIN,
  desiredOf,
  kinds,
  OWN,
  observedOf,
  person,
  plan,
  project,
  shadow,
  usersOf,
} from "./fixtures.js";

// Deleting owned groups no policy names any more: the group planner, with the revokes group-grant plans beside it.
const grant = (group: string, projectName: string): DesiredGroupGrant => ({
  group,
  project: projectName,
  projectDomain: DOMAIN,
  role: "member",
  policies: ["teams"],
});
const member = (username: string, group: string) => ({
  identityId: `ldap:${username}`,
  group,
  domain: DOMAIN,
  policies: ["teams"],
});
const [projects, teamA] = project(DOMAIN, "team-a");
type GroupEntry = { id: string; members: Set<string>; remark?: boolean; keepsRoles?: boolean };
const groupsOf = (entries: [string, GroupEntry][], foreign?: [string, string][]) =>
  Object.assign(new Map(entries), foreign ? { foreign: new Map(foreign) } : {});
const teamGroup = (extra: Partial<GroupEntry> = {}): GroupEntry => ({
  id: "g-a",
  members: new Set(["u-alice"]),
  ...extra,
});
/** A cloud where team-a's group holds member on team-a and alice is in it. */
const teamCloud = (group: GroupEntry = teamGroup(), foreign?: [string, string][]) =>
  observedOf({
    project: projects,
    user: usersOf(shadow("alice")),
    group: groupsOf([["team-a", group]], foreign),
    "group-grant": {
      list: [{ groupId: group.id, projectId: teamA.id, roleId: "r-member" }],
      roles: new Map([["member", "r-member"]]),
    },
  });
const deleteA = { kind: "deleteGroup", name: "team-a", groupId: "g-a", policies: [] };

describe("group planner: deleting groups no policy names", () => {
  it("a team gone from the directory or the policy: its role revoked, its member removed, its group deleted last", () => {
    const p = plan(desiredOf({ users: [person("alice")] }), teamCloud());
    expect(kinds(p).sort()).toEqual(["deleteGroup", "removeMember", "revokeGroup"]);
    expect(p.operations).toContainEqual(deleteA);
    // Plans list by resource; apply runs by phase: the delete after the unlinks that revoke and remove.
    const phases = p.operations.map((op) => PHASES.indexOf(stepOf(op)?.phase ?? "domain"));
    expect(phases.at(kinds(p).indexOf("deleteGroup"))).toBeGreaterThan(
      Math.max(...phases.filter((_, i) => kinds(p)[i] !== "deleteGroup")),
    );
    expect(p.counts.delete).toBe(1);
    expect(p.destructive).toBe(3); // all three count against sync.maxDeletesPerRun
  });

  it("a group still wanted is never deleted: by a membership, by a grant, or a membership of a user that cannot exist", () => {
    const byMember = plan(
      desiredOf({ users: [person("alice")], memberships: [member("alice", "team-a")] }),
      teamCloud(),
    );
    expect(kinds(byMember)).not.toContain("deleteGroup");
    const byGrant = plan(desiredOf({ projects: [], groupGrants: [grant("team-a", "team-a")] }), teamCloud());
    expect(kinds(byGrant)).not.toContain("deleteGroup");
    // bob's name is held by a user Archway does not own: no membership is made, but the team still names the group.
    const clash = observedOf({
      group: groupsOf([["team-a", { id: "g-a", members: new Set() }]]),
      user: { byIdentity: new Map(), foreignNames: new Map([["bob", "without Archway's mark"]]) },
    });
    const unusable = plan(desiredOf({ users: [person("bob")], memberships: [member("bob", "team-a")] }), clash);
    expect(kinds(unusable)).not.toContain("deleteGroup");
  });

  it("never deletes a group Archway did not create (hand-made, another deployment's: not observed as owned)", () => {
    const observed = observedOf({
      group: groupsOf(
        [],
        [
          ["team-a", "without Archway's mark"],
          ["team-b", "of deployment other"],
        ],
      ),
    });
    expect(plan(desiredOf(), observed).operations).toEqual([]);
  });

  it("keeps a group with a member Archway does not own (added by hand); Archway's own members still leave", () => {
    const p = plan(
      desiredOf({ users: [person("alice")] }),
      teamCloud(teamGroup({ members: new Set(["u-alice", "u-hand"]) })),
    );
    expect(kinds(p).sort()).toEqual(["removeMember", "revokeGroup"]);
  });

  it("keeps a group holding a role Archway never revokes (domain, system or inherited); its project roles still go", () => {
    const p = plan(desiredOf({ users: [person("alice")] }), teamCloud(teamGroup({ keepsRoles: true })));
    expect(kinds(p).sort()).toEqual(["removeMember", "revokeGroup"]);
  });

  it("a just-in-time run deletes no group", () => {
    const p = plan(desiredOf({ users: [person("alice")] }), teamCloud(), { people: new Set(["ldap:alice"]) });
    expect(kinds(p)).not.toContain("deleteGroup");
  });

  it("a group adopted with the old mark is marked first, and deleted by a later run", () => {
    const p = plan(
      desiredOf(),
      observedOf({ group: groupsOf([["old", { id: "g-old", members: new Set(), remark: true }]]) }),
    );
    expect(kinds(p)).toEqual(["markGroup"]);
  });

  it("many teams gone at once: every deletion counts, so sync.maxDeletesPerRun refuses the cloud", () => {
    const many = groupsOf(
      Array.from({ length: 30 }, (_, i): [string, GroupEntry] => [`team-${i}`, { id: `g-${i}`, members: new Set() }]),
    );
    const p = plan(desiredOf(), observedOf({ group: many }));
    expect(p.counts.delete).toBe(30);
    expect(p.destructive).toBe(30);
  });
});

describe("group observe: roles Archway never revokes", () => {
  it("marks only unnamed owned groups holding a domain, system or inherited role, from the one assignment list", async () => {
    const calls: string[] = [];
    const mark = { [USER_MARK]: true, [DEPLOYMENT_ATTR]: OWN.deploymentId };
    const keystone = {
      listDomains: async () => [{ id: "d1", name: DOMAIN }],
      listRoles: async () => [{ id: "r1", name: "member" }],
      listProjects: async () => [],
      listUsers: async () => [],
      listGroups: async () => [
        { id: "g-dom", name: "by-domain", domain_id: "d1", ...mark },
        { id: "g-inh", name: "inherited", domain_id: "d1", ...mark },
        { id: "g-prj", name: "project-only", domain_id: "d1", ...mark },
        { id: "g-want", name: "wanted", domain_id: "d1", ...mark },
      ],
      listGroupUsers: async () => [],
      listRoleAssignments: async () => {
        calls.push("listRoleAssignments");
        return [
          { role: { id: "r1" }, group: { id: "g-dom" }, scope: { domain: { id: "d1" } } },
          {
            role: { id: "r1" },
            group: { id: "g-inh" },
            scope: { project: { id: "p1" }, "OS-INHERIT:inherited_to": "projects" },
          },
          { role: { id: "r1" }, group: { id: "g-prj" }, scope: { project: { id: "p1" } } },
          { role: { id: "r1" }, group: { id: "g-want" }, scope: { domain: { id: "d1" } } },
        ];
      },
    };
    const clients = {
      cloud: { id: "cloud-1" },
      keystone,
      limiter: { max: 4 },
      nova: () => ({}),
      federation: () => ({}),
      flavors: () => ({ list: async () => [] }),
      securityGroups: () => ({ list: async () => [] }),
    } as unknown as Parameters<typeof observeCloud>[0];
    const observed = await observeCloud(clients, {
      cloud,
      desired: desiredOf({ groupGrants: [grant("wanted", "x")] }),
      ownership: OWN,
    });
    const slice = observed.of(groups);
    expect(slice.get("by-domain")?.keepsRoles).toBe(true);
    expect(slice.get("inherited")?.keepsRoles).toBe(true);
    expect(slice.get("project-only")?.keepsRoles).toBeUndefined();
    expect(slice.get("wanted")?.keepsRoles).toBeUndefined();
    expect(calls).toHaveLength(1); // the list group-grant reads anyway
  });
});
