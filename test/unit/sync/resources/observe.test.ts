import { describe, expect, it } from "vitest";
import type { CloudClients } from "../../../../src/openstack/index.js";
import {
  DEPLOYMENT_ATTR,
  deploymentTag,
  IDENTITY_ATTR,
  KEYS_ATTR,
  observeCloud,
  PROJECT_TAG,
  USER_MARK,
} from "../../../../src/sync/index.js";
import { assignments, groupGrants, groups, projects, users } from "../../../../src/sync/resources/index.js";
import { cloud, DOMAIN, desiredOf, OWN, person } from "./fixtures.js";

/** A Keystone with Archway's domain, one owned and one hand-made user, group and project; calls are counted. */
function fakeCloud(calls: string[]): CloudClients {
  const owned = {
    id: "u1",
    name: "alice",
    domain_id: "d1",
    enabled: true,
    options: {},
    [USER_MARK]: true,
    [DEPLOYMENT_ATTR]: OWN.deploymentId,
    [IDENTITY_ATTR]: "ldap:alice",
    [KEYS_ATTR]: {},
  };
  const keystone = {
    listDomains: async () => [
      { id: "d1", name: DOMAIN },
      { id: "d2", name: "Default" },
    ],
    listProjects: async (f: { tags?: string[] }) =>
      f.tags
        ? [
            {
              id: "p1",
              name: "web",
              domain_id: "d1",
              tags: [PROJECT_TAG, deploymentTag(OWN.deploymentId)],
              description: null,
            },
          ]
        : [],
    listRoles: async () => [{ id: "r1", name: "member" }],
    listUsers: async () => [owned, { id: "u2", name: "handmade", domain_id: "d1", enabled: true, options: {} }],
    listRoleAssignments: async () => [
      { role: { id: "r1" }, user: { id: "u1" }, scope: { project: { id: "p1" } } },
      { role: { id: "r1" }, user: { id: "u2" }, scope: { project: { id: "p1" } } },
      { role: { id: "r1" }, group: { id: "g1" }, scope: { project: { id: "p1" } } },
      { role: { id: "r1" }, group: { id: "g2" }, scope: { project: { id: "p1" } } },
    ],
    listGroups: async () => [
      { id: "g1", name: "ops", domain_id: "d1", [USER_MARK]: true, [DEPLOYMENT_ATTR]: OWN.deploymentId },
      { id: "g2", name: "byhand", domain_id: "d1" },
    ],
    listGroupUsers: async () => [{ id: "u1" }],
  };
  const counted = Object.fromEntries(
    Object.entries(keystone).map(([name, fn]) => [
      name,
      (...args: unknown[]) => {
        calls.push(name);
        return (fn as (...a: unknown[]) => unknown)(...args);
      },
    ]),
  );
  return {
    cloud,
    keystone: counted,
    limiter: { max: 4 },
    nova: () => ({}),
    federation: () => ({}),
    flavors: () => ({ list: async () => [] }),
    securityGroups: () => ({ list: async () => [] }),
  } as unknown as CloudClients;
}

describe("observe over the registry", () => {
  it("reads each shared list once, and only what Archway owns", async () => {
    const calls: string[] = [];
    const observed = await observeCloud(fakeCloud(calls), {
      cloud,
      desired: desiredOf({ users: [person("alice")] }),
      ownership: OWN,
    });
    expect(calls.filter((c) => c === "listRoleAssignments")).toHaveLength(1);
    expect(calls.filter((c) => c === "listDomains")).toHaveLength(1);
    expect(calls.filter((c) => c === "listRoles")).toHaveLength(1);
    expect([...observed.of(users).byIdentity.keys()]).toEqual(["ldap:alice"]);
    expect([...observed.of(users).foreignNames.keys()]).toEqual(["handmade"]);
    expect(observed.of(projects).get({ domain: DOMAIN, name: "web" })).toMatchObject({ id: "p1", owned: true });
    expect(observed.of(assignments).list).toEqual([{ userId: "u1", projectId: "p1", roleId: "r1" }]);
    expect([...observed.of(groups).keys()]).toEqual(["ops"]);
    expect(observed.of(groupGrants).list).toEqual([{ groupId: "g1", projectId: "p1", roleId: "r1" }]);
  });

  it("a just-in-time run reads assignments per person and no group grants", async () => {
    const calls: string[] = [];
    const observed = await observeCloud(
      fakeCloud(calls),
      { cloud, desired: desiredOf({ users: [person("alice")] }), ownership: OWN },
      { people: new Set(["ldap:alice"]) },
    );
    expect(observed.of(groupGrants).list).toEqual([]);
    expect(observed.of(assignments).list).toEqual([{ userId: "u1", projectId: "p1", roleId: "r1" }]);
  });

  it("a just-in-time run reads the role assignments of its people's owned grant groups only", async () => {
    const calls: string[] = [];
    const grant = (group: string) => ({ group, project: "web", projectDomain: DOMAIN, role: "member", policies: [] });
    const observed = await observeCloud(
      fakeCloud(calls),
      {
        cloud,
        desired: desiredOf({ users: [person("alice")], groupGrants: [grant("ops"), grant("byhand")] }),
        ownership: OWN,
      },
      { people: new Set(["ldap:alice"]) },
    );
    expect(observed.of(groupGrants).list).toEqual([{ groupId: "g1", projectId: "p1", roleId: "r1" }]);
  });
});
