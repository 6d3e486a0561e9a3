import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import type { Cloud } from "../../../src/config/index.js";
import type { CloudClients, Flavor } from "../../../src/openstack/index.js";
import { compilePolicies, type DesiredCloudState } from "../../../src/policy/index.js";
import { FLAVOR_MARK, FLAVOR_SET_MARK } from "../../../src/sync/resources/flavor/index.js";
import { freePort } from "../faults/own-redis.js";
import { type FacadeHarness, startFacade } from "../tokens/harness.js";
import { createHarness, desiredFor, type Person } from "./harness.js";

// FlavorSets against the three real Keystones and their real nova-api: labels pick cloud-1 and cloud-2, never
// cloud-3; then the real openstack CLI through Archway's facade lists them in cloud-2.
const h = createHarness();
const clouds: Cloud[] = h.clouds.map((c) => ({ ...c, labels: { flavors: c.id === "cloud-3" ? "off" : "on" } }));
const [c1, c2, c3] = clouds.map((c) => h.clients(c)) as [CloudClients, CloudClients, CloudClients];
const name = (n: string) => `${h.domain}-${n}`;
const alice: Person = { id: "test:alice", username: "alice", projects: [{ name: "ops", role: "member" }] };

/** The FlavorSet `base` as YAML: `small` (public), `private` (for the owned project ops) and `taken`. */
function flavorSet(opts: {
  cpuPolicy?: string;
  smallVcpus?: number;
  takenVcpus?: number;
  withPrivate?: boolean;
  withTaken?: boolean;
}) {
  const flavors = [
    `    - { name: ${name("small")}, vcpus: ${opts.smallVcpus ?? 1}, ram: 512, disk: 1, description: small one, extraSpecs: { "hw:cpu_policy": ${opts.cpuPolicy ?? "shared"}, "hw:numa_nodes": "1" } }`,
    opts.withPrivate !== false &&
      `    - { name: ${name("private")}, vcpus: 1, ram: 256, disk: 0, public: false, projects: [ops] }`,
    opts.withTaken !== false && `    - { name: ${name("taken")}, vcpus: ${opts.takenVcpus ?? 2}, ram: 256, disk: 0 }`,
  ].filter(Boolean);
  const text = `apiVersion: archway.dev/v1\nkind: FlavorSet\nmetadata: { name: base }\nspec:\n  clouds: { labels: { flavors: "on" } }\n  flavors:\n${flavors.join("\n")}\n`;
  const { policies, problems } = compilePolicies([{ file: "flavors.yaml", text }], {
    clouds,
    sources: ["test"],
    roles: ["member"],
  });
  expect(problems).toEqual([]);
  return policies.manifests;
}

function desired(cloudId: string, manifests: ReturnType<typeof flavorSet>): DesiredCloudState {
  const state = desiredFor(cloudId, h.domain, [alice]);
  const own = manifests.filter((m) => m.clouds.includes(cloudId));
  return own.length > 0 ? { ...state, manifests: own } : state;
}

async function syncAll(manifests: ReturnType<typeof flavorSet>) {
  const engine = h.engine({ clouds });
  const results = await Promise.all(
    clouds.map((c) => engine.run(c.id, desired(c.id, manifests), { runId: `flv-${Date.now()}` })),
  );
  for (const r of results) expect(r.apply?.failed ?? [], r.cloudId).toEqual([]);
  return new Map(results.map((r) => [r.cloudId, r]));
}

const ours = async (c: CloudClients) =>
  new Map((await c.flavors().list()).filter((f) => f.name.startsWith(h.domain)).map((f) => [f.name, f]));
let handmade: Flavor;

afterAll(async () => {
  for (const c of [c1, c2, c3])
    for (const f of (await ours(c).catch(() => new Map<string, Flavor>())).values())
      await c
        .flavors()
        .delete(f.id)
        .catch(() => {});
  await h.cleanup();
});

describe("FlavorSets against the real nova-api", () => {
  it("converges in one run where the labels point, and never touches a hand-made flavor of a wanted name", async () => {
    handmade = await c1
      .flavors()
      .create({ name: name("taken"), vcpus: 1, ram: 128, disk: 0, ephemeral: 0, swap: 0, isPublic: true });
    const first = await syncAll(flavorSet({}));
    for (const r of first.values()) expect(r.outcome, r.cloudId).toBe("converged");
    expect(first.get("cloud-1")?.plan?.problems).toEqual([
      `flavor ${name("taken")} exists without Archway's mark: not changed (FlavorSet base)`,
    ]);
    const in1 = await ours(c1);
    expect([...in1.keys()].sort()).toEqual([name("private"), name("small"), name("taken")]);
    expect(in1.get(name("small"))).toMatchObject({
      vcpus: 1,
      ram: 512,
      disk: 1,
      isPublic: true,
      description: "small one",
      extraSpecs: {
        "hw:cpu_policy": "shared",
        "hw:numa_nodes": "1",
        [FLAVOR_MARK]: h.domain,
        [FLAVOR_SET_MARK]: "base",
      },
    });
    expect(in1.get(name("taken"))).toEqual(handmade);
    // The private flavor is for the project Archway created in the same run.
    const [domain] = await c1.keystone.listDomains({ name: h.domain });
    const [ops] = await c1.keystone.listProjects({ domainId: domain!.id, name: "ops" });
    expect(await c1.flavors().access(in1.get(name("private"))!.id)).toEqual([ops!.id]);
    expect((await ours(c2)).get(name("taken"))).toMatchObject({ vcpus: 2, extraSpecs: { [FLAVOR_MARK]: h.domain } });
    expect((await ours(c3)).size).toBe(0);
  }, 120_000);

  it("a second run writes nothing", async () => {
    const before = h.requests.length;
    const second = await syncAll(flavorSet({}));
    for (const r of second.values()) expect(r.plan?.operations, r.cloudId).toEqual([]);
    expect(h.writes(before)).toEqual([]);
  }, 120_000);

  it("a changed extra spec updates only it, in place", async () => {
    const ids = [...(await ours(c1)).values()].map((f) => f.id).sort();
    const before = h.requests.length;
    const run = await syncAll(flavorSet({ cpuPolicy: "dedicated" }));
    expect(run.get("cloud-1")?.plan?.operations).toEqual([
      expect.objectContaining({ kind: "updateFlavor", set: { "hw:cpu_policy": "dedicated" } }),
    ]);
    expect(h.writes(before).map((w) => w.operation)).toEqual([
      "nova.flavors.extraSpecs.set",
      "nova.flavors.extraSpecs.set",
    ]);
    const in1 = await ours(c1);
    expect([...in1.values()].map((f) => f.id).sort()).toEqual(ids);
    expect(in1.get(name("small"))?.extraSpecs["hw:cpu_policy"]).toBe("dedicated");
  }, 120_000);

  it("changed vcpus recreate the flavor (a destructive operation), with its marks and specs", async () => {
    const old = (await ours(c1)).get(name("small"))!;
    const run = await syncAll(flavorSet({ cpuPolicy: "dedicated", smallVcpus: 2 }));
    expect(run.get("cloud-1")?.plan?.destructive).toBe(1);
    const now = (await ours(c1)).get(name("small"))!;
    expect(now.id).not.toBe(old.id);
    expect(now).toMatchObject({ vcpus: 2, description: "small one", extraSpecs: old.extraSpecs });
  }, 120_000);

  it("more flavor deletions than maxDeletesPerRun: that cloud is refused, nothing deleted, the refusal reported", async () => {
    const before = new Map([...(await ours(c2))].map(([n, f]) => [n, f.id]));
    const from = h.requests.length;
    // cloud-2 would delete two flavors (private, taken) and the limit is one.
    const set = flavorSet({ cpuPolicy: "dedicated", smallVcpus: 2, withPrivate: false, withTaken: false });
    const r = await h
      .engine({ clouds, maxDeletes: { perCloud: 1, total: 500 } })
      .run("cloud-2", desired("cloud-2", set), { runId: `flv-limit-${Date.now()}` });
    expect(r.outcome).toBe("refused");
    expect(r.plan?.destructive).toBe(2);
    expect(r.reason).toMatch(/has 2 deletions .* over maxDeletesPerRun.perCloud = 1: nothing applied/);
    expect(r.status).toMatchObject({ refused: true, lastError: r.reason });
    expect(h.writes(from)).toEqual([]);
    expect(new Map([...(await ours(c2))].map(([n, f]) => [n, f.id]))).toEqual(before);
    // A recreate (a size change) takes a flavor away too: two of them are refused under the same limit.
    const recreate = await h
      .engine({ clouds, maxDeletes: { perCloud: 1, total: 500 } })
      .run("cloud-2", desired("cloud-2", flavorSet({ cpuPolicy: "dedicated", smallVcpus: 3, takenVcpus: 3 })), {
        runId: `flv-limit-${Date.now()}`,
      });
    expect(recreate.plan?.operations.map((o) => o.kind)).toEqual(["recreateFlavor", "recreateFlavor"]);
    expect(recreate.outcome).toBe("refused");
    expect(h.writes(from)).toEqual([]);
    expect(new Map([...(await ours(c2))].map(([n, f]) => [n, f.id]))).toEqual(before);
  }, 120_000);

  it("a flavor no set asks for any more is deleted once the limit allows; the hand-made one stays", async () => {
    const run = await syncAll(
      flavorSet({ cpuPolicy: "dedicated", smallVcpus: 2, withPrivate: false, withTaken: false }),
    );
    expect(run.get("cloud-1")?.plan?.operations.map((o) => o.kind)).toEqual(["deleteFlavor"]);
    expect(run.get("cloud-2")?.plan?.operations.map((o) => o.kind)).toEqual(["deleteFlavor", "deleteFlavor"]);
    expect([...(await ours(c1)).keys()].sort()).toEqual([name("small"), name("taken")]);
    expect((await ours(c1)).get(name("taken"))).toEqual(handmade);
    expect([...(await ours(c2)).keys()]).toEqual([name("small")]);
  }, 120_000);
});

describe("the openstack CLI through Archway's facade", () => {
  const run = promisify(execFile);
  const home = mkdtempSync(join(tmpdir(), "archway-flavor-cli-"));
  const prefix = `${h.domain}-cli`;
  let f: FacadeHarness | undefined;
  afterAll(async () => {
    for (const c of [c1, c2, c3])
      for (const fl of await c
        .flavors()
        .list()
        .catch(() => []))
        if (fl.name.startsWith(prefix))
          await c
            .flavors()
            .delete(fl.id)
            .catch(() => {});
    await f?.close();
    rmSync(home, { recursive: true, force: true });
  });

  it("flavor list in cloud-2 shows the set's public flavor, the private one of alice's project, and the hand-made one", async () => {
    const hand = await c2
      .flavors()
      .create({ name: `${prefix}-byhand`, vcpus: 1, ram: 128, disk: 0, ephemeral: 0, swap: 0, isPublic: true });
    const devs = `apiVersion: archway.dev/v1\nkind: AccessPolicy\nmetadata: { name: devs }\nspec:\n  subjects: { groups: { anyOf: [devs] } }\n  grants: [{ project: "u-{{ username }}", roles: [member], create: true }]\n  keys: false\n`;
    const set = `apiVersion: archway.dev/v1\nkind: FlavorSet\nmetadata: { name: cli }\nspec:\n  clouds: { labels: { kind: region } }\n  flavors:\n    - { name: ${prefix}-public, vcpus: 1, ram: 256, disk: 1 }\n    - { name: ${prefix}-private, vcpus: 2, ram: 512, disk: 1, public: false, projects: [u-alice] }\n`;
    // A deployment id of its own: other test files' runs under `demo` must not see these flavors as theirs.
    f = await startFacade(await freePort(), {
      policies: { devs, flavors: set },
      extraConfig: `deploymentId: ${prefix}\n`,
    });
    const { results } = await f.gateway.sync!.service.full({ runId: `flv-cli-${Date.now()}` });
    for (const r of results) expect(r, r.cloudId).toMatchObject({ outcome: "converged" });
    const env = {
      PATH: "/usr/bin:/bin",
      HOME: home,
      OS_AUTH_URL: `${f.url}/v3`,
      OS_IDENTITY_API_VERSION: "3",
      OS_USERNAME: "alice",
      OS_PASSWORD: f.password,
      OS_USER_DOMAIN_NAME: "Default",
      OS_PROJECT_NAME: "u-alice",
      OS_PROJECT_DOMAIN_NAME: "archway",
      OS_REGION_NAME: "cloud-2",
      OS_INTERFACE: "public",
    };
    const { stdout } = await run("/usr/bin/openstack", ["flavor", "list", "-f", "json"], { env, timeout: 90_000 });
    const listed = (JSON.parse(stdout) as { Name: string; VCPUs: number; "Is Public": boolean }[]).filter((x) =>
      x.Name.startsWith(prefix),
    );
    expect(listed.map((x) => [x.Name, x.VCPUs, x["Is Public"]]).sort()).toEqual([
      [`${prefix}-byhand`, 1, true],
      [`${prefix}-private`, 2, false],
      [`${prefix}-public`, 1, true],
    ]);
    expect((await c2.flavors().list()).find((x) => x.id === hand.id)).toEqual(hand);
  }, 240_000);
});
