import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, desiredFor, type Person } from "./harness.js";

const h = createHarness();
const cloud = h.clouds[2]!;
const ks = () => h.clients(cloud).keystone;
const handMade: {
  domainId?: string;
  userId?: string;
  otherUserId?: string;
  projectId?: string;
  groupId?: string;
  otherDomainId?: string;
} = {};

const people: Person[] = Array.from({ length: 6 }, (_, i) => ({
  id: `test:p${i}`,
  username: `p${i}`,
  projects: [{ name: "shared", role: "member" }],
}));

beforeAll(async () => {
  // Archway's domain, with objects an operator made by hand (no marks), and another domain entirely.
  const first = await h.engine().run(cloud.id, desiredFor(cloud.id, h.domain, people.slice(0, 1)), { runId: "s0" });
  expect(first.outcome).toBe("converged");
  const [domain] = await ks().listDomains({ name: h.domain });
  handMade.domainId = domain!.id;
  const [shared] = await ks().listProjects({ domainId: domain!.id, name: "shared" });
  const member = (await ks().listRoles({ name: "member" }))[0]!;
  handMade.userId = (await ks().createUser({ name: "handmade", domain_id: domain!.id, password: "pw-1" })).id;
  await ks().grantProjectRole({ userId: handMade.userId }, shared!.id, member.id);
  handMade.projectId = (await ks().createProject({ name: "handmade-project", domain_id: domain!.id })).id;
  handMade.groupId = (await ks().createGroup({ name: "handmade-group", domain_id: domain!.id })).id;
  const other = await ks().createDomain({ name: `${h.domain}-other` });
  handMade.otherDomainId = other.id;
  handMade.otherUserId = (
    await ks().createUser({ name: "p1", domain_id: other.id, archway_managed: true, archway_identity: "test:p1" })
  ).id;
});
afterAll(async () => {
  if (handMade.otherDomainId)
    await ks()
      .deleteDomain(handMade.otherDomainId)
      .catch(() => {});
  await h.cleanup();
});

describe("ownership and the deletion limit", () => {
  it("never changes or deletes objects without Archway's marks, in its domain or elsewhere", async () => {
    // Nobody is desired any more: everything Archway owns would go, nothing else may.
    const r = await h.engine().run(cloud.id, desiredFor(cloud.id, h.domain, []), { runId: "s1" });
    expect(r.outcome).toBe("converged");
    for (const op of r.plan!.operations) expect(JSON.stringify(op)).not.toMatch(/handmade|-other/);
    expect(await ks().getUser(handMade.userId!)).toMatchObject({ enabled: true, name: "handmade" });
    expect(await ks().getUser(handMade.otherUserId!)).toMatchObject({ enabled: true });
    const assignments = await ks().listRoleAssignments({ userId: handMade.userId! });
    expect(assignments).toHaveLength(1);
    expect((await ks().listProjects({ domainId: handMade.domainId! })).map((p) => p.name).sort()).toEqual([
      "handmade-project",
      "shared",
    ]);
    expect((await ks().listGroups({ domainId: handMade.domainId! })).map((g) => g.name)).toEqual(["handmade-group"]);
  });

  it("does not adopt a hand-made user whose name a person would take, and says so", async () => {
    const desired = desiredFor(cloud.id, h.domain, [
      { id: "test:hm", username: "handmade", projects: [{ name: "shared", role: "member" }] },
    ]);
    const { plan } = await h.engine().plan(cloud.id, desired);
    expect(plan.operations).toEqual([]);
    expect(plan.problems).toEqual([expect.stringContaining("user handmade exists in domain")]);
  });

  it("refuses a plan with more deletions than maxDeletesPerRun, with the count, and applies nothing", async () => {
    await h.engine().run(cloud.id, desiredFor(cloud.id, h.domain, people), { runId: "s2" });
    const before = h.requests.length;
    const r = await h
      .engine({ maxDeletes: { perCloud: 5, total: 100 } })
      .run(cloud.id, desiredFor(cloud.id, h.domain, []), {
        runId: "s3",
      });
    expect(r.outcome).toBe("refused");
    expect(r.reason).toMatch(/has 12 deletions .* over maxDeletesPerRun.perCloud = 5/);
    expect(h.writes(before)).toEqual([]);
    expect(r.status).toMatchObject({ refused: true, lastError: r.reason });

    // The overall limit holds across clouds of one run.
    const engine = h.engine({ maxDeletes: { perCloud: 50, total: 10 } });
    const total = await engine.run(cloud.id, desiredFor(cloud.id, h.domain, []), { runId: "s4" });
    expect(total.reason).toMatch(/over maxDeletesPerRun.total = 10/);
  });
});
