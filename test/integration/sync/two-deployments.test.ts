import { afterAll, describe, expect, it } from "vitest";
import { MemoryStore } from "../../../src/store/index.js";
import { DEPLOYMENT_ATTR, deploymentTag, PROJECT_TAG, type SyncEngine, USER_MARK } from "../../../src/sync/index.js";
import { createHarness, desiredFor, type Person } from "./harness.js";

// Two Archway deployments, `a` and `b`, on the same real Keystone and the same domain: each syncs its own people and
// projects; neither updates, disables, revokes or deletes the other's objects, whatever the other's plan says.
const h = createHarness();
const cloud = h.clouds[0]!;
const ks = () => h.clients(cloud).keystone;
const ids = { a: `${h.domain}-a`, b: `${h.domain}-b` };
const deployment = (id: string, extra: { graceMs?: number } = {}): SyncEngine =>
  h.engine({ ownership: { deploymentId: id, adoptUnmarked: false }, store: new MemoryStore(), ...extra });
const engines = { a: deployment(ids.a), b: deployment(ids.b) };

const peopleA: Person[] = [
  { id: "a:alice", username: "alice", projects: [{ name: "proj-a", role: "member" }], groups: ["team-a"] },
  { id: "a:carl", username: "carl", projects: [{ name: "proj-a", role: "reader" }] },
];
const peopleB: Person[] = [
  { id: "b:bob", username: "bob", projects: [{ name: "proj-b", role: "member" }], groups: ["team-b", "team-a"] },
  // Names that clash with a's objects: reported as conflicts, never taken over.
  { id: "b:alice", username: "alice", projects: [{ name: "proj-a", role: "member" }], groups: ["team-a"] },
];
const desiredA = () => desiredFor(cloud.id, h.domain, peopleA);
const desiredB = (people = peopleB) => desiredFor(cloud.id, h.domain, people);

/** Everything of a's as Keystone holds it: compared before and after b's runs. */
async function snapshotA() {
  const [domain] = await ks().listDomains({ name: h.domain });
  const users = (await ks().listUsers({ domainId: domain!.id })).filter((u) => u[DEPLOYMENT_ATTR] === ids.a);
  const projects = (await ks().listProjects({ domainId: domain!.id })).filter((p) =>
    p.tags.includes(deploymentTag(ids.a)),
  );
  const groups = (await ks().listGroups({ domainId: domain!.id })).filter((g) => g[DEPLOYMENT_ATTR] === ids.a);
  const assignments = (await Promise.all(users.map((u) => ks().listRoleAssignments({ userId: u.id }))))
    .flat()
    .map((a) => `${a.user?.id}|${a.scope?.project?.id}|${a.role.id}`)
    .sort();
  const members = await Promise.all(groups.map(async (g) => (await ks().listGroupUsers(g.id)).map((m) => m.id)));
  return {
    users: users.map((u) => ({ id: u.id, name: u.name, enabled: u.enabled, email: u.email })).sort(byId),
    projects: projects.map((p) => ({ id: p.id, name: p.name, tags: [...p.tags].sort(), desc: p.description })),
    groups: groups.map((g) => g.id).sort(),
    members: members.flat().sort(),
    assignments,
  };
}
const byId = (x: { id: string }, y: { id: string }) => (x.id < y.id ? -1 : 1);

afterAll(() => h.cleanup());

describe("two deployments on one Keystone and domain", () => {
  it("each syncs its own people and projects, with its own marks; a name clash is a conflict", async () => {
    const a = await engines.a.run(cloud.id, desiredA(), { runId: "a1" });
    expect(a.outcome).toBe("converged");
    expect(a.plan?.problems).toEqual([]);
    const b = await engines.b.run(cloud.id, desiredB(), { runId: "b1" });
    expect(b.outcome).toBe("converged");
    expect(b.plan?.problems).toEqual(
      expect.arrayContaining([
        `user alice exists in domain ${h.domain} marked by Archway deployment '${ids.a}': not adopted`,
        `project ${h.domain}/proj-a exists marked by Archway deployment '${ids.a}': granting on it, not changing it`,
        `group team-a exists marked by Archway deployment '${ids.a}': not adopted`,
      ]),
    );
    // b's plan only ever names b's own objects.
    for (const op of b.plan!.operations) expect(JSON.stringify(op)).not.toMatch(/a:alice|a:carl|carl|team-a/);
    const [domain] = await ks().listDomains({ name: h.domain });
    const users = await ks().listUsers({ domainId: domain!.id });
    expect(users.map((u) => [u.name, u[USER_MARK], u[DEPLOYMENT_ATTR]]).sort()).toEqual([
      ["alice", true, ids.a],
      ["bob", true, ids.b],
      ["carl", true, ids.a],
    ]);
    const projects = await ks().listProjects({ domainId: domain!.id });
    expect(projects.map((p) => [p.name, [...p.tags].sort()]).sort()).toEqual([
      ["proj-a", [PROJECT_TAG, deploymentTag(ids.a)].sort()],
      ["proj-b", [PROJECT_TAG, deploymentTag(ids.b)].sort()],
    ]);
  });

  it("each run twice converges: nothing to do, nothing written", async () => {
    for (const [engine, desired] of [
      [engines.a, desiredA()],
      [engines.b, desiredB()],
      [engines.a, desiredA()],
    ] as const) {
      const from = h.requests.length;
      const r = await engine.run(cloud.id, desired, { runId: "again" });
      expect(r.outcome).toBe("converged");
      expect(r.plan?.operations).toEqual([]);
      expect(h.writes(from)).toEqual([]);
    }
  });

  it("b losing every policy disables, revokes and deletes only b's own objects; its project is an orphan, kept", async () => {
    const before = await snapshotA();
    expect(before.users).toHaveLength(2);
    const b = deployment(ids.b, { graceMs: 0 });
    const first = await b.run(cloud.id, desiredB([]), { runId: "b-empty-1" });
    expect(first.outcome).toBe("converged");
    expect(first.plan?.orphans).toEqual([`${h.domain}/proj-b`]);
    // b's own team-b, which no policy of b's names any more, is deleted; a's team-a (bob was in it too) is not b's.
    expect(first.plan?.operations.map((o) => o.kind).sort()).toEqual([
      "deleteGroup",
      "disableUser",
      "removeMember",
      "revoke",
    ]);
    for (const op of first.plan!.operations)
      expect(JSON.stringify(op)).toContain(op.kind === "deleteGroup" ? '"name":"team-b"' : "bob");
    // Past the grace period (0 here), b deletes its user; still only its own.
    const second = await b.run(cloud.id, desiredB([]), { runId: "b-empty-2" });
    expect(second.plan?.operations.map((o) => `${o.kind} ${"username" in o ? o.username : ""}`)).toEqual([
      "deleteUser bob",
    ]);
    expect(second.plan?.orphans).toEqual([`${h.domain}/proj-b`]);
    expect(await snapshotA()).toEqual(before);
    // The orphan is still there, with b's marks; a's plan has nothing to do and no orphan of b's.
    const [domain] = await ks().listDomains({ name: h.domain });
    const [projB] = await ks().listProjects({ domainId: domain!.id, name: "proj-b" });
    expect(projB?.tags).toContain(deploymentTag(ids.b));
    const a = await engines.a.plan(cloud.id, desiredA());
    expect(a.plan.operations).toEqual([]);
    expect(a.plan.orphans).toEqual([]);
  });

  it("a removed policy shows its project as an orphan of the deployment that made it, and deletes nothing", async () => {
    const before = await snapshotA();
    const withoutProject = peopleA.map((p) => ({ ...p, projects: [] }));
    const { plan } = await engines.a.plan(cloud.id, desiredFor(cloud.id, h.domain, withoutProject));
    expect(plan.orphans).toEqual([`${h.domain}/proj-a`]);
    expect(plan.operations.map((o) => o.kind).sort()).toEqual(["revoke", "revoke"]);
    const r = await engines.a.run(cloud.id, desiredFor(cloud.id, h.domain, withoutProject), { runId: "a-np" });
    expect(r.outcome).toBe("converged");
    const after = await snapshotA();
    expect(after.projects).toEqual(before.projects);
    expect(after.users).toEqual(before.users);
    // b, which never made proj-a, does not call it its orphan.
    expect((await engines.b.plan(cloud.id, desiredB([]))).plan.orphans).toEqual([`${h.domain}/proj-b`]);
  });
});
