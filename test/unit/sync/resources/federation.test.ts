import { describe, expect, it } from "vitest";
import { CloudSchema } from "../../../../src/config/index.js";
import { federationDesired } from "../../../../src/sync/resources/federation/desired.js";
import { idpMark } from "../../../../src/sync/resources/federation/index.js";
import { DOMAIN, desiredOf, kinds, observedOf, plan, project } from "./fixtures.js";

const fedCloud = CloudSchema.parse({
  id: "fed-1",
  authUrl: "http://127.0.0.1:15011/v3",
  mode: "federated",
  admin: { username: "admin", password: "x" },
});
const ISSUER = "https://archway.example";
const assignment = (name: string, role: string, identityId = "demo:alice") => ({
  identityId,
  project: name,
  projectDomain: DOMAIN,
  role,
  policies: ["p"],
});
const shared = { name: "shared", domain: DOMAIN, tags: [], create: true, policies: ["p"], description: "" };
const desired = desiredOf({
  projects: [shared],
  assignments: [assignment("shared", "member"), assignment("shared", "member", "demo:bob")],
});
const [sharedObserved] = project(DOMAIN, "shared");
const converged = (rules: unknown[]) => ({
  idp: { id: "archway", enabled: true, description: idpMark("t"), remote_ids: [ISSUER] },
  mappingRules: JSON.parse(JSON.stringify(rules)) as unknown[],
  protocolMapping: "archway-mapping",
});
const groupG1 = () => new Map([["shared:member", { id: "g1", members: new Set<string>() }]]);

function planFed(state = desired, over: Parameters<typeof observedOf>[0] = {}) {
  const { base, federation } = federationDesired(fedCloud, state, ISSUER);
  return { plan: plan(base, observedOf({ project: sharedObserved, ...over }), {}, federation), federation };
}

describe("federated cloud: desired state", () => {
  it("one group per project role; no users; the mapping checks iss and aud and whitelists Archway's groups", () => {
    const { base, federation } = federationDesired(fedCloud, desired, ISSUER);
    expect(base.users).toEqual([]);
    expect([...federation.groups.keys()]).toEqual(["shared:member"]);
    expect(federation.groups.get("shared:member")).toEqual([
      { project: { domain: DOMAIN, name: "shared" }, role: "member", policies: ["p"] },
    ]);
    const rules = JSON.stringify(federation.mapping.rules);
    expect(rules).toContain('"whitelist":["shared:member"]');
    expect(rules).toContain(`"any_one_of":["${ISSUER}"]`);
    expect(rules).toContain(`"any_one_of":["${fedCloud.authUrl}"]`);
  });
});

describe("federation objects and group grants planners", () => {
  it("from nothing: group, grant, identity provider, mapping, protocol", () => {
    expect(kinds(planFed().plan)).toEqual([
      "createGroup",
      "grantGroup",
      "ensureIdentityProvider",
      "ensureMapping",
      "ensureProtocol",
    ]);
    expect(planFed().plan.operations[1]).toEqual({
      kind: "grantGroup",
      group: "shared:member",
      project: { domain: DOMAIN, name: "shared" },
      role: "member",
      policies: ["p"],
    });
  });

  it("converged: nothing", () => {
    const { federation } = federationDesired(fedCloud, desired, ISSUER);
    const { plan: p } = planFed(desired, {
      group: groupG1(),
      federation: converged(federation.mapping.rules),
      "group-grant": {
        list: [{ groupId: "g1", projectId: `p-${DOMAIN}-shared`, roleId: "r-member" }],
        roles: new Map([["member", "r-member"]]),
      },
    });
    expect(p).toMatchObject({ operations: [], problems: [] });
  });

  it("updates what drifted: remote ids, a disabled identity provider, the mapping, the protocol's mapping", () => {
    const { federation } = federationDesired(fedCloud, desired, ISSUER);
    const drifted = {
      idp: { id: "archway", enabled: false, description: idpMark("t"), remote_ids: ["https://old"] },
      mappingRules: [],
      protocolMapping: "other",
    };
    const { plan: p } = planFed(desired, { group: groupG1(), federation: drifted });
    expect(p.operations.filter((o) => o.kind.startsWith("ensure"))).toEqual([
      expect.objectContaining({ kind: "ensureIdentityProvider", create: false, remoteIds: [ISSUER] }),
      expect.objectContaining({ kind: "ensureMapping", create: false, rules: federation.mapping.rules }),
      expect.objectContaining({ kind: "ensureProtocol", create: false, mappingId: "archway-mapping" }),
    ]);
    expect(p.counts.update).toBe(3);
  });

  it("an identity provider without Archway's mark is reported and left alone, with its mapping and protocol", () => {
    const { plan: p } = planFed(desired, {
      federation: { idp: { id: "archway", enabled: true, description: "by hand", remote_ids: ["https://other"] } },
    });
    expect(p.problems).toEqual([expect.stringMatching(/without Archway's mark/)]);
    expect(kinds(p)).toEqual(["createGroup", "grantGroup"]);
  });

  it("a grant no policy asks for any more is revoked from the group; only owned groups' grants are read", () => {
    const { plan: p } = planFed(desiredOf({ projects: [shared] }), {
      group: groupG1(),
      "group-grant": {
        list: [{ groupId: "g1", projectId: `p-${DOMAIN}-shared`, roleId: "r-member" }],
        roles: new Map([["member", "r-member"]]),
      },
    });
    expect(p.operations).toContainEqual({
      kind: "revokeGroup",
      group: "shared:member",
      groupId: "g1",
      projectId: `p-${DOMAIN}-shared`,
      project: `${DOMAIN}/shared`,
      roleId: "r-member",
      role: "member",
      policies: [],
    });
    // The group no policy names any more goes too, after its role: both count against the deletes limit.
    expect(p.operations).toContainEqual({ kind: "deleteGroup", name: "shared:member", groupId: "g1", policies: [] });
    expect(p.destructive).toBe(2);
  });

  it("a missing role is a problem; a project neither existing nor created gets no grant yet", () => {
    const state = desiredOf({ projects: [{ ...shared, create: false }], assignments: [assignment("shared", "admin")] });
    const { plan: p } = planFed(state, { project: project(DOMAIN, "other")[0] });
    expect(p.problems).toContain("role admin does not exist in this cloud");
    const noRole = planFed(
      desiredOf({ projects: [{ ...shared, create: false }], assignments: [assignment("shared", "member")] }),
      {
        project: project(DOMAIN, "other")[0],
      },
    );
    expect(kinds(noRole.plan)).not.toContain("grantGroup");
  });

  it("brokered clouds plan no group grants or federation objects", () => {
    const p = plan(desired, observedOf({ project: sharedObserved, group: groupG1() }));
    // Only the leftover owned group no policy names is deleted, as in any cloud.
    expect(kinds(p).filter((k) => k.includes("Group") || k.startsWith("ensure"))).toEqual(["deleteGroup"]);
  });
});
