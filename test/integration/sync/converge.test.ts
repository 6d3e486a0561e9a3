import { afterAll, describe, expect, it } from "vitest";
import { issueToken, Limiter, Transport } from "../../../src/openstack/index.js";
import { shadowPassword } from "../../../src/sync/index.js";
import { createHarness, desiredFor, KEYS, type Person } from "./harness.js";

const h = createHarness();
afterAll(() => h.cleanup());

const alice: Person = {
  id: "test:alice",
  username: "alice",
  projects: [
    { name: "ops", role: "member" },
    { name: "dev", role: "reader" },
  ],
  keys: [KEYS[0]!],
  groups: ["operators"],
};
const bob: Person = { id: "test:bob", username: "bob", projects: [{ name: "ops", role: "member" }], keys: [KEYS[2]!] };

async function syncAll(people: Person[], engine = h.engine()) {
  const results = await Promise.all(
    h.clouds.map((c) => engine.run(c.id, desiredFor(c.id, h.domain, people), { runId: `run-${Date.now()}` })),
  );
  return new Map(results.map((r) => [r.cloudId, r]));
}

describe("sync against the 3 real Keystones and nova-api", () => {
  it("converges on the first apply, and a second run writes nothing", async () => {
    const first = await syncAll([alice, bob]);
    for (const r of first.values()) {
      expect(r.apply?.failed).toEqual([]);
      expect(r.outcome).toBe("converged");
      expect(r.plan?.counts.create).toBeGreaterThan(0);
    }
    const before = h.requests.length;
    const second = await syncAll([alice, bob]);
    for (const r of second.values()) expect(r.plan?.operations).toEqual([]);
    expect(h.writes(before)).toEqual([]);
    // Few list calls per cloud, whatever the number of people: each listing once (Keystone's, Nova's flavors and
    // Neutron's owned security groups, read on every full run so that the last manifest leaving a cloud still
    // removes what it made), never one per person.
    const ops = h.requests
      .slice(before)
      .filter((r) => r.cloudId === "cloud-1")
      .map((r) => r.operation);
    expect(new Set(ops).size, ops.join(", ")).toBe(ops.length);
    expect(ops.length, ops.join(", ")).toBeLessThanOrEqual(10);

    const c1 = h.clients(h.clouds[0]!);
    const [domain] = await c1.keystone.listDomains({ name: h.domain });
    const users = await c1.keystone.listUsers({ domainId: domain!.id });
    expect(users.map((u) => u.name).sort()).toEqual(["alice", "bob"]);
    const aliceUser = users.find((u) => u.name === "alice")!;
    expect(aliceUser).toMatchObject({ archway_managed: true, archway_identity: "test:alice", archway_key_version: 1 });
    const keys = await c1.nova().listKeypairs(aliceUser.id);
    expect(keys.map((k) => k.name)).toEqual(["alice_laptop"]);
    expect(h.audit.filter((e) => e.type === "sync.applied").length).toBeGreaterThan(0);
  });

  it("logs a shadow user in with the derived password, and resets it when the key version changes", async () => {
    const cloud = h.clouds[1]!;
    const login = (version: number) =>
      issueToken(
        new Transport({ cloudId: cloud.id, service: "keystone", limiter: new Limiter(1), timeoutMs: 10_000 }),
        cloud.authUrl,
        {
          method: "password",
          username: "bob",
          password: shadowPassword("test-shadow-secret", cloud.id, "test:bob", version),
          userDomainName: h.domain,
          projectName: "ops",
          projectDomainName: h.domain,
        },
      );
    await expect(login(1)).resolves.toMatchObject({ token: expect.any(String) });
    const r = await h
      .engine({ keyVersion: 2 })
      .run(cloud.id, desiredFor(cloud.id, h.domain, [alice, bob]), { runId: "rotate" });
    expect(r.plan?.operations.map((o) => o.kind)).toEqual(["updateUser", "updateUser"]);
    await expect(login(2)).resolves.toMatchObject({ token: expect.any(String) });
    await expect(login(1)).rejects.toMatchObject({ upstreamStatus: 401 });
  });
});
