import { describe, expect, it } from "vitest";
import type { CloudClients } from "../../../../src/openstack/index.js";
import { applyPlan, OPERATION_KINDS, type Operation, RESOURCES, type Steps } from "../../../../src/sync/index.js";
import { finishPlan } from "../../../../src/sync/plan.js";
import { PHASES } from "../../../../src/sync/resource.js";
import type { CreateGroup } from "../../../../src/sync/resources/group/index.js";
import { stepOf } from "../../../../src/sync/resources/index.js";
import { cloud, DOMAIN, observedOf, shadow, usersOf } from "./fixtures.js";

/** Clients whose every call is recorded (`keystone.createUser`, `nova.deleteKeypair`) and answers `{ id }`. */
function recordingClients(calls: string[]): CloudClients {
  const service = (name: string) =>
    new Proxy(
      {},
      {
        get:
          (_t, method) =>
          async (..._args: unknown[]) => {
            calls.push(`${name}.${String(method)}`);
            return { id: `${String(method)}-id` };
          },
      },
    );
  const keystone = service("keystone");
  const nova = service("nova");
  const federation = service("federation");
  return {
    cloud,
    keystone,
    nova: () => nova,
    federation: () => federation,
    limiter: { max: 1 },
    close: async () => {},
  } as unknown as CloudClients;
}

const deps = (calls: string[], audit: unknown[] = []) => ({
  clients: recordingClients(calls),
  passwordSecret: "s",
  keyVersion: 1,
  ownership: { deploymentId: "t", adoptUnmarked: false },
  now: () => new Date(),
  audit: (e: unknown) => {
    audit.push(e);
  },
});

describe("the resource registry", () => {
  it("every operation kind has one step with a known phase and an apply step; resource names are unique", () => {
    expect(new Set(RESOURCES.map((r) => r.name)).size).toBe(RESOURCES.length);
    for (const kind of OPERATION_KINDS) {
      const step = stepOf({ kind } as Operation);
      expect(PHASES, kind).toContain(step?.phase);
      expect(typeof step?.apply, kind).toBe("function");
    }
    expect([...OPERATION_KINDS].sort()).toEqual(
      [
        "ensureDomain",
        "createProject",
        "updateProject",
        "createUser",
        "updateUser",
        "disableUser",
        "deleteUser",
        "grant",
        "revoke",
        "createGroup",
        "markGroup",
        "deleteGroup",
        "addMember",
        "removeMember",
        "importKey",
        "deleteKey",
        "recordKeys",
        "grantGroup",
        "revokeGroup",
        "ensureIdentityProvider",
        "ensureMapping",
        "ensureProtocol",
        "setQuota",
        "resetQuota",
        "createFlavor",
        "recreateFlavor",
        "updateFlavor",
        "grantFlavor",
        "revokeFlavor",
        "deleteFlavor",
        ...["createSecurityGroup", "updateSecurityGroup", "deleteSecurityGroup"],
        ...["createSecurityGroupRule", "deleteSecurityGroupRule"],
        ...["transferImage", "renameImage", "updateImage", "deleteImage", "shareImage", "unshareImage"],
      ].sort(),
    );
  });

  it("a module that forgets a kind's step does not compile", () => {
    type TwoKinds = CreateGroup | { kind: "dropGroup"; name: string; policies: string[] };
    const createGroup = stepOf({ kind: "createGroup", name: "g", policies: [] }) as Steps<CreateGroup>["createGroup"];
    // @ts-expect-error: `dropGroup` has no step
    const steps: Steps<TwoKinds> = { createGroup };
    expect(steps).toBeDefined();
  });

  it("applies phase by phase: domain, objects, links, unlinks, disable, delete (keys before their user)", async () => {
    const calls: string[] = [];
    const ops: Operation[] = [
      { kind: "deleteUser", identityId: "ldap:old", userId: "u-old", username: "old", keyNames: ["k1"], policies: [] },
      { kind: "disableUser", identityId: "ldap:bob", userId: "u-bob", username: "bob", policies: [] },
      {
        kind: "revoke",
        identityId: "ldap:bob",
        userId: "u-bob",
        username: "bob",
        projectId: "p",
        project: "d/p",
        roleId: "r",
        role: "member",
        policies: [],
      },
      {
        kind: "grant",
        identityId: "ldap:alice",
        username: "alice",
        project: { domain: DOMAIN, name: "web" },
        role: "member",
        policies: ["p"],
      },
      { kind: "createUser", identityId: "ldap:alice", username: "alice", policies: ["p"] },
      { kind: "createProject", domain: DOMAIN, name: "web", description: "", tags: [], policies: ["p"] },
      { kind: "ensureDomain", name: DOMAIN, policies: [] },
    ];
    const observed = observedOf({ domain: { id: null, byName: new Map() } });
    const result = await applyPlan(finishPlan(cloud.id, ops, []), observed, deps(calls));
    expect(result).toEqual({ cloudId: cloud.id, applied: 7, failed: [] });
    expect(calls).toEqual([
      "keystone.createDomain",
      // One phase, in plan order.
      "keystone.createUser",
      "keystone.createProject",
      "keystone.grantProjectRole",
      "keystone.revokeProjectRole",
      "keystone.updateUser",
      "nova.deleteKeypair",
      "keystone.deleteUser",
    ]);
  });

  it("an operation of a kind no resource handles fails: never applied, counted or audited", async () => {
    const calls: string[] = [];
    const audit: unknown[] = [];
    const bogus = { kind: "dropEverything", policies: [] } as unknown as Operation;
    const result = await applyPlan(finishPlanUnchecked([bogus]), observedOf(), deps(calls, audit));
    expect(result.applied).toBe(0);
    expect(result.failed).toEqual([expect.objectContaining({ code: "sync_unknown_operation" })]);
    expect(audit).toEqual([]);
    expect(calls).toEqual([]);
  });

  it("a step whose object an earlier step did not make fails as sync_unresolved, and the rest still runs", async () => {
    const calls: string[] = [];
    const ops: Operation[] = [
      {
        kind: "grant",
        identityId: "ldap:ghost",
        username: "ghost",
        project: { domain: DOMAIN, name: "web" },
        role: "member",
        policies: [],
      },
      { kind: "disableUser", identityId: "ldap:bob", userId: "u-bob", username: "bob", policies: [] },
    ];
    const result = await applyPlan(
      finishPlan(cloud.id, ops, []),
      observedOf({ user: usersOf(shadow("bob")) }),
      deps(calls),
    );
    expect(result.applied).toBe(1);
    expect(result.failed).toEqual([expect.objectContaining({ code: "sync_unresolved" })]);
    expect(calls).toEqual(["keystone.updateUser"]);
  });

  it("counts what takes something away: revoke, disable, delete, and a replaced keypair", () => {
    const base = { identityId: "i", username: "u", policies: [] };
    const plan = finishPlan(
      cloud.id,
      [
        { kind: "importKey", ...base, name: "k", publicKey: "x", fingerprint: "f", replace: true },
        { kind: "importKey", ...base, name: "k2", publicKey: "x", fingerprint: "f", replace: false },
        { kind: "disableUser", ...base, userId: "1" },
        { kind: "deleteKey", ...base, userId: "1", name: "k" },
        { kind: "removeMember", group: "g", groupId: "g", userId: "1", username: "u", policies: [] },
      ],
      [],
    );
    expect(plan.destructive).toBe(4);
    expect(plan.counts).toEqual({ create: 1, update: 1, revoke: 1, disable: 1, delete: 1 });
  });
});

/** A plan holding operations as they are, without counting them (the counts need a registered kind). */
function finishPlanUnchecked(operations: Operation[]) {
  return {
    cloudId: cloud.id,
    operations,
    problems: [],
    counts: { create: 0, update: 0, revoke: 0, disable: 0, delete: 0 },
    destructive: 0,
    orphans: [],
  };
}
