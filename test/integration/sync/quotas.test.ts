import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Identity } from "../../../src/identity/index.js";
import type { CloudClients } from "../../../src/openstack/index.js";
import { compilePolicies, type DesiredCloudState, desiredState, type Quotas } from "../../../src/policy/index.js";
import { emptyDesired, quotaTag, UNIFIED_LIMIT_NAMES } from "../../../src/sync/index.js";
import { createHarness } from "./harness.js";

// cloud-3 keeps compute and volume quotas in Keystone unified limits; network quotas stay on its Neutron.
const h = createHarness();
h.clouds[2] = { ...h.clouds[2]!, quotaBackend: "unified-limits" };
const [c1, , c3] = h.clouds as [(typeof h.clouds)[0], (typeof h.clouds)[0], (typeof h.clouds)[0]];

const alice: Identity = {
  id: "test:alice",
  source: "test",
  username: "alice",
  email: "alice@example.org",
  displayName: "alice",
  groups: [],
  groupDns: [],
  sshKeys: [],
  attributes: {},
};
/** Registered limits this file created in cloud-3 (the Keystones are shared: only these are removed). */
const registered: string[] = [];
/** Per cloud: the hand-made project (no Archway tag, a forged quota mark) and its limits before any run. */
const hand = new Map<string, { id: string; compute: Record<string, number> }>();
/** Per cloud: the id of team-q once created, and the test domain's id. */
const teamIds = new Map<string, string>();
const domainIds = new Map<string, string>();

/** The tags of a project of the test domain. */
async function tagsOf(cloudId: string, name: string): Promise<string[]> {
  const [p] = await clientsOf(cloudId).keystone.listProjects({ domainId: domainIds.get(cloudId), name });
  return p?.tags ?? [];
}

/**
 * The desired state from real policies: `team` grants alice team-q with `quotas` (none when undefined); with
 * `withHand`, a second policy asks to create the hand-made project with quotas (Archway must refuse both).
 */
function desired(cloudId: string, quotas: Quotas | undefined, withHand = true, fresh?: Quotas): DesiredCloudState {
  const policy = (name: string, grant: Record<string, unknown>) =>
    JSON.stringify({
      apiVersion: "archway.dev/v1",
      kind: "AccessPolicy",
      metadata: { name },
      spec: { subjects: { usernames: ["alice"] }, grants: [grant] },
    });
  const files = [{ file: "team.yaml", text: policy("team", { project: "team-q", roles: ["member"], quotas }) }];
  if (withHand)
    files.push({ file: "hand.yaml", text: policy("hand", { project: "handmade", quotas: { compute: { cores: 1 } } }) });
  if (fresh) files.push({ file: "fresh.yaml", text: policy("fresh", { project: "fresh", quotas: fresh }) });
  const { policies, problems } = compilePolicies(files, { clouds: h.clouds, sources: ["test"], roles: ["member"] });
  expect(problems).toEqual([]);
  return desiredState([alice], policies).get(cloudId) ?? emptyDesired(cloudId);
}

async function syncAll(quotas: Quotas | undefined, withHand = true, fresh?: Quotas) {
  const engine = h.engine();
  const results = await Promise.all(
    h.clouds.map((c) => engine.run(c.id, desired(c.id, quotas, withHand, fresh), { runId: `q-${Date.now()}` })),
  );
  for (const r of results) expect(r.apply?.failed ?? [], r.cloudId).toEqual([]);
  return new Map(results.map((r) => [r.cloudId, r]));
}

const clientsOf = (cloudId: string): CloudClients => h.clients(h.clouds.find((c) => c.id === cloudId)!);

/** What a project's compute and volume limits are where the cloud keeps them, by config name. */
async function limitsOf(cloudId: string, projectId: string) {
  const c = clientsOf(cloudId);
  const network = await c.quotas().network.get(projectId);
  if (cloudId !== c3.id) {
    return {
      compute: await c.quotas().compute.get(projectId),
      volume: await c.quotas().volume.get(projectId),
      network,
    };
  }
  const read = async (service: "compute" | "volume") => {
    const lim = c.limits();
    const eff = await lim.effectiveLimits(
      projectId,
      await lim.serviceId(service === "compute" ? "compute" : "volumev3"),
    );
    const names = UNIFIED_LIMIT_NAMES[service]!;
    return Object.fromEntries(Object.entries(names).flatMap(([k, u]) => (eff[u] === undefined ? [] : [[k, eff[u]]])));
  };
  return { compute: await read("compute"), volume: await read("volume"), network };
}

beforeAll(async () => {
  // Keystone refuses a project limit without a registered default: cloud-3 gets the ones this test uses.
  const lim = clientsOf(c3.id).limits();
  const defaults: [string, string, number][] = [
    ["compute", "class:VCPU", 20],
    ["compute", "class:MEMORY_MB", 51_200],
    ["volumev3", "volumes", 10],
  ];
  for (const [type, resourceName, defaultLimit] of defaults) {
    const serviceId = await lim.serviceId(type);
    if ((await lim.listRegisteredLimits({ serviceId, resourceName })).length > 0) continue;
    registered.push((await lim.createRegisteredLimit({ serviceId, resourceName, defaultLimit })).id);
  }
  // The test domain, and in it a project made by hand, carrying a (forged) quota mark but not Archway's tag.
  await syncAll(undefined, false);
  for (const cloud of h.clouds) {
    const ks = clientsOf(cloud.id).keystone;
    const [domain] = await ks.listDomains({ name: h.domain });
    domainIds.set(cloud.id, domain!.id);
    const project = await ks.createProject({
      name: "handmade",
      domain_id: domain!.id,
      tags: [quotaTag("compute", ["cores"])],
    });
    const [team] = await ks.listProjects({ domainId: domain!.id, name: "team-q" });
    teamIds.set(cloud.id, team!.id);
    hand.set(cloud.id, { id: project.id, compute: (await limitsOf(cloud.id, project.id)).compute });
  }
});

afterAll(async () => {
  for (const cloud of h.clouds) {
    const c = clientsOf(cloud.id);
    for (const id of [teamIds.get(cloud.id), teamIds.get(`${cloud.id}/fresh`), hand.get(cloud.id)?.id]) {
      if (!id) continue;
      await Promise.all(
        (["compute", "volume", "network"] as const).map((s) =>
          c
            .quotas()
            [s].reset(id)
            .catch(() => {}),
        ),
      );
      if (cloud.id === c3.id)
        for (const l of await c
          .limits()
          .listLimits({ projectId: id })
          .catch(() => []))
          await c
            .limits()
            .deleteLimit(l.id)
            .catch(() => {});
    }
  }
  const lim = clientsOf(c3.id).limits();
  for (const id of registered) await lim.deleteRegisteredLimit(id).catch(() => {});
  await h.cleanup();
});

const QUOTAS: Quotas = { compute: { cores: 8, ram: 8192 }, volume: { volumes: 4 }, network: { port: 25 } };

describe("quotas synced to the real nova-api, cinder-api, neutron-server and Keystone unified limits", () => {
  let defaults: Map<string, Awaited<ReturnType<typeof limitsOf>>>;

  it("a policy with quotas converges in one run (cloud-3 through Keystone unified limits), a second writes nothing", async () => {
    defaults = new Map(
      await Promise.all(h.clouds.map(async (c) => [c.id, await limitsOf(c.id, teamIds.get(c.id)!)] as const)),
    );
    const first = await syncAll(QUOTAS);
    for (const [cloudId, r] of first) {
      expect(r.outcome, cloudId).toBe("converged");
      expect(r.plan?.operations.map((o) => o.kind).sort()).toEqual(["setQuota", "setQuota", "setQuota"]);
      expect(r.plan?.problems).toEqual([
        expect.stringContaining(`${h.domain}/handmade exists`),
        `project ${h.domain}/handmade: quotas not set (the project is not Archway's)`,
      ]);
      const now = await limitsOf(cloudId, teamIds.get(cloudId)!);
      expect(now.compute).toMatchObject({ cores: 8, ram: 8192 });
      expect(now.volume).toMatchObject({ volumes: 4 });
      expect(now.network).toMatchObject({ port: 25 });
    }
    // cloud-3: the limits are Keystone's, Nova's own quota set is untouched.
    const c3Limits = await clientsOf(c3.id)
      .limits()
      .listLimits({ projectId: teamIds.get(c3.id)! });
    expect(c3Limits.map((l) => [l.resource_name, l.resource_limit]).sort()).toEqual([
      ["class:MEMORY_MB", 8192],
      ["class:VCPU", 8],
      ["volumes", 4],
    ]);
    expect(await tagsOf(c1.id, "team-q")).toEqual(
      expect.arrayContaining([
        quotaTag("compute", ["cores", "ram"]),
        quotaTag("volume", ["volumes"]),
        quotaTag("network", ["port"]),
      ]),
    );

    const before = h.requests.length;
    const second = await syncAll(QUOTAS);
    for (const r of second.values()) expect(r.plan?.operations).toEqual([]);
    expect(h.writes(before)).toEqual([]);
  });

  it("changing one limit writes only it", async () => {
    const before = h.requests.length;
    const changed: Quotas = { ...QUOTAS, compute: { cores: 12, ram: 8192 } };
    const r = await syncAll(changed);
    for (const [cloudId, run] of r) {
      expect(run.plan?.operations, cloudId).toEqual([
        expect.objectContaining({ kind: "setQuota", service: "compute", limits: { cores: 12 } }),
      ]);
      expect((await limitsOf(cloudId, teamIds.get(cloudId)!)).compute).toMatchObject({ cores: 12, ram: 8192 });
    }
    const quotaWrites = h
      .writes(before)
      .filter((w) => !w.operation.startsWith("keystone.projects.tags"))
      .map((w) => `${w.cloudId} ${w.operation}`)
      .sort();
    expect(quotaWrites).toEqual([
      "cloud-1 nova.quotas.set",
      "cloud-2 nova.quotas.set",
      "cloud-3 keystone.limits.update",
    ]);
  });

  it("dropping one resource from a grant gives it back to the default, the others stay", async () => {
    const r = await syncAll({ ...QUOTAS, compute: { cores: 12 } });
    for (const [cloudId, run] of r) {
      expect(run.plan?.operations, cloudId).toEqual([
        expect.objectContaining({ kind: "setQuota", service: "compute", drop: ["ram"] }),
      ]);
      const now = await limitsOf(cloudId, teamIds.get(cloudId)!);
      expect(now.compute).toMatchObject({ cores: 12, ram: defaults.get(cloudId)!.compute.ram });
      expect(now.volume).toMatchObject({ volumes: 4 });
      expect(await tagsOf(cloudId, "team-q")).toContain(quotaTag("compute", ["cores"]));
      expect(await tagsOf(cloudId, "team-q")).not.toContain(quotaTag("compute", ["cores", "ram"]));
    }
    const before = h.requests.length;
    for (const run of (await syncAll({ ...QUOTAS, compute: { cores: 12 } })).values())
      expect(run.plan?.operations).toEqual([]);
    expect(h.writes(before)).toEqual([]);
  });

  it("dropping the quotas resets them to the cloud's defaults and removes Archway's marks; then nothing to do", async () => {
    const r = await syncAll(undefined);
    for (const [cloudId, run] of r) {
      expect(run.plan?.operations.map((o) => [o.kind, "service" in o ? o.service : ""]).sort(), cloudId).toEqual([
        ["resetQuota", "compute"],
        ["resetQuota", "network"],
        ["resetQuota", "volume"],
      ]);
      expect(run.plan?.destructive).toBe(0);
      const now = await limitsOf(cloudId, teamIds.get(cloudId)!);
      const was = defaults.get(cloudId)!;
      expect(now.compute.cores).toBe(was.compute.cores);
      expect(now.compute.ram).toBe(was.compute.ram);
      expect(now.volume.volumes).toBe(was.volume.volumes);
      expect(now.network.port).toBe(was.network.port);
      expect((await tagsOf(cloudId, "team-q")).filter((t) => t.startsWith("archway:quota:"))).toEqual([]);
    }
    expect(
      await clientsOf(c3.id)
        .limits()
        .listLimits({ projectId: teamIds.get(c3.id)! }),
    ).toEqual([]);
    const before = h.requests.length;
    for (const run of (await syncAll(undefined)).values()) expect(run.plan?.operations).toEqual([]);
    expect(h.writes(before)).toEqual([]);
  });

  it("never touches a project Archway does not own, even one a policy names with quotas and that carries a quota mark", async () => {
    for (const cloud of h.clouds) {
      const made = hand.get(cloud.id)!;
      expect((await limitsOf(cloud.id, made.id)).compute).toEqual(made.compute);
      expect(await tagsOf(cloud.id, "handmade")).toEqual([quotaTag("compute", ["cores"])]);
    }
    const touched = h.requests.filter((r) => [...hand.values()].some((m) => r.path.includes(m.id)));
    expect(touched.filter((r) => r.method !== "GET")).toEqual([]);
  });

  it("a project created in the same run gets its quotas once it exists", async () => {
    const fresh: Quotas = { compute: { cores: 3 }, network: { port: 7 } };
    const r = await syncAll(undefined, true, fresh);
    for (const [cloudId, run] of r) {
      expect(run.plan?.operations.map((o) => o.kind).sort(), cloudId).toEqual([
        "createProject",
        "setQuota",
        "setQuota",
      ]);
      const [made] = await clientsOf(cloudId).keystone.listProjects({
        domainId: domainIds.get(cloudId),
        name: "fresh",
      });
      teamIds.set(`${cloudId}/fresh`, made!.id);
      const now = await limitsOf(cloudId, made!.id);
      expect(now.compute).toMatchObject({ cores: 3 });
      expect(now.network).toMatchObject({ port: 7 });
    }
    const before = h.requests.length;
    for (const run of (await syncAll(undefined, true, fresh)).values()) expect(run.plan?.operations).toEqual([]);
    expect(h.writes(before)).toEqual([]);
  });
});
