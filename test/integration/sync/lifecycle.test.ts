import { afterAll, describe, expect, it } from "vitest";
import { createHarness, desiredFor, KEYS, type Person } from "./harness.js";

const h = createHarness();
afterAll(() => h.cleanup());
const cloud = h.clouds[0]!;

const carol: Person = {
  id: "test:carol",
  username: "carol",
  projects: [
    { name: "ops", role: "member" },
    { name: "web", role: "member" },
  ],
  keys: [KEYS[0]!],
  groups: ["operators"],
};
const dave: Person = {
  id: "test:dave",
  username: "dave",
  projects: [{ name: "web", role: "member" }],
  keys: [KEYS[2]!],
};

const run = (people: Person[], runId: string) =>
  h.engine().run(cloud.id, desiredFor(cloud.id, h.domain, people), { runId });

async function state() {
  const ks = h.clients(cloud).keystone;
  const [domain] = await ks.listDomains({ name: h.domain });
  const users = await ks.listUsers({ domainId: domain!.id });
  const projects = new Map((await ks.listProjects({ domainId: domain!.id })).map((p) => [p.id, p.name]));
  const roles = new Map((await ks.listRoles()).map((r) => [r.id, r.name]));
  const grants: string[] = [];
  for (const projectId of projects.keys()) {
    for (const a of await ks.listRoleAssignments({ projectId })) {
      const user = users.find((u) => u.id === a.user?.id);
      if (user) grants.push(`${user.name}:${projects.get(projectId)}:${roles.get(a.role.id)}`);
    }
  }
  const keys: Record<string, string[]> = {};
  for (const u of users) keys[u.name] = (await h.clients(cloud).nova().listKeypairs(u.id)).map((k) => k.name).sort();
  return { users: new Map(users.map((u) => [u.name, u])), grants: grants.sort(), keys };
}

describe("a person's lifecycle in one cloud", () => {
  it("grants, then revokes the role of a person removed from a group", async () => {
    expect((await run([carol, dave], "l1")).outcome).toBe("converged");
    expect((await state()).grants).toEqual(["carol:ops:member", "carol:web:member", "dave:web:member"]);
    const withoutWeb: Person = { ...carol, projects: [{ name: "ops", role: "member" }] };
    const r = await run([withoutWeb, dave], "l2");
    expect(r.plan?.operations).toEqual([
      expect.objectContaining({ kind: "revoke", username: "carol", project: `${h.domain}/web`, role: "member" }),
    ]);
    expect((await state()).grants).toEqual(["carol:ops:member", "dave:web:member"]);
  });

  it("imports an added SSH key and deletes a removed one", async () => {
    await run([{ ...carol, keys: [KEYS[0]!, KEYS[1]!] }, dave], "k1");
    expect((await state()).keys.carol).toEqual(["alice_desktop", "alice_laptop"]);
    await run([{ ...carol, keys: [KEYS[1]!] }, dave], "k2");
    expect((await state()).keys.carol).toEqual(["alice_desktop"]);
    const again = await run([{ ...carol, keys: [KEYS[1]!] }, dave], "k3");
    expect(again.plan?.operations).toEqual([]);
  });

  it("re-imports a key deleted by hand when asked to read keys deeply", async () => {
    const carolUser = (await state()).users.get("carol")!;
    await h.clients(cloud).nova().deleteKeypair(carolUser.id, "alice_desktop");
    const desired = desiredFor(cloud.id, h.domain, [{ ...carol, keys: [KEYS[1]!] }, dave]);
    const r = await h.engine().run(cloud.id, desired, { runId: "deep", deepKeys: true });
    expect(r.plan?.operations.map((o) => o.kind)).toEqual(["importKey"]);
    expect((await state()).keys.carol).toEqual(["alice_desktop"]);
  });

  it("disables a person removed from the directory, and deletes them after the grace period", async () => {
    const r1 = await run([carol], "d1");
    const forDave = r1.plan?.operations.filter((o) => "username" in o && o.username === "dave");
    expect(forDave?.map((o) => o.kind).sort()).toEqual(["disableUser", "revoke"]);
    let s = await state();
    expect(s.users.get("dave")).toMatchObject({ enabled: false, archway_disabled_at: expect.any(String) });
    expect(s.grants).not.toContain("dave:web:member");
    // Still within the grace period: nothing to do.
    expect((await run([carol], "d2")).plan?.operations).toEqual([]);
    h.clock.now = new Date(h.clock.now.getTime() + 2 * 3_600_000);
    const r3 = await run([carol], "d3");
    expect(r3.plan?.operations).toEqual([
      expect.objectContaining({ kind: "deleteUser", username: "dave", keyNames: ["bob key _work_"] }),
    ]);
    s = await state();
    expect(s.users.has("dave")).toBe(false);
  });

  it("re-enables a disabled person who gets access back", async () => {
    const erin: Person = { id: "test:erin", username: "erin", projects: [{ name: "ops", role: "member" }] };
    await run([carol, erin], "e1");
    await run([carol], "e2");
    expect((await state()).users.get("erin")?.enabled).toBe(false);
    const r = await run([carol, erin], "e3");
    expect(r.plan?.operations.map((o) => o.kind).sort()).toEqual(["grant", "updateUser"]);
    expect((await state()).users.get("erin")).toMatchObject({ enabled: true, archway_disabled_at: null });
  });
});
