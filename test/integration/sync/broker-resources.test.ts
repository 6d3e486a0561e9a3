import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CloudClients, Flavor } from "../../../src/openstack/index.js";
import { openstackJson } from "../../helpers/openstack-cli.js";
import { freePort } from "../faults/own-redis.js";
import { type FacadeHarness, startFacade } from "../tokens/harness.js";

// Issue #27's "must show", end to end through one running Archway (config file, policies folder, sync service,
// facade and proxy) against the three real Keystones with their real nova-api, cinder-api and neutron-server: one
// policy gives each directory team a project held through a Keystone group, with quotas in every service; a
// FlavorSet gives every cloud the same flavors. One full run converges, the second writes nothing, the real
// `openstack` CLI shows the quotas and flavors in cloud-2, and a hand-made flavor of a wanted name is never touched.
const home = mkdtempSync(join(tmpdir(), "archway-broker-cli-"));
let h: FacadeHarness;
let prefix: string;
let handmade: Flavor;
const clients = (cloudId: string): CloudClients => {
  const cloud = h.runtime.loaded.config.clouds.find((c) => c.id === cloudId);
  if (!cloud || !h.gateway.sync) throw new Error(`no cloud ${cloudId} or no sync`);
  return h.gateway.sync.clients(cloud);
};
const CLOUDS = ["cloud-1", "cloud-2", "cloud-3"];

const TEAMS = `apiVersion: archway.dev/v1
kind: AccessPolicy
metadata: { name: teams }
spec:
  forEach: { group: "team-*" }
  grants:
    - project: "{{ group }}"
      roles: [member]
      assignTo: group
      quotas:
        compute: { cores: 8, ram: 16384, instances: 4 }
        volume: { volumes: 5, gigabytes: 100 }
        network: { security_group: 12, port: 60 }
`;
const flavorSet = (p: string) => `apiVersion: archway.dev/v1
kind: FlavorSet
metadata: { name: standard }
spec:
  clouds: { labels: { kind: region } }
  flavors:
    - { name: ${p}-small, vcpus: 1, ram: 512, disk: 1, extraSpecs: { "hw:cpu_policy": shared } }
    - { name: ${p}-large, vcpus: 4, ram: 4096, disk: 10 }
    - { name: ${p}-taken, vcpus: 2, ram: 1024, disk: 1 }
`;

const BASELINE = `apiVersion: archway.dev/v1
kind: SecurityGroupBaseline
metadata: { name: bastion }
spec:
  clouds: { labels: { kind: region } }
  projects: ["team-*"]
  securityGroups:
    - name: bastion-ssh
      description: SSH from the bastion hosts
      rules:
        - { direction: ingress, protocol: tcp, portRangeMin: 22, remoteIpPrefix: 192.0.2.0/24 }
        - { direction: ingress, protocol: icmp }
`;

async function fullRun() {
  const { results } = await h.gateway.sync!.service.full({ runId: `broker-${Date.now()}` });
  return new Map(results.map((r) => [r.cloudId, r]));
}

async function teamRed(cloudId: string) {
  const c = clients(cloudId);
  const domain = (await c.keystone.listDomains()).find((d) => d.name === h.domain);
  return c.keystone.listProjects({ name: "team-red", domainId: domain?.id });
}

/** What `archway sync plan --cloud` computes (observe and plan, no write). */
async function planOf(cloudId: string) {
  const plans = await h.gateway.sync!.service.plan({ cloudId });
  return plans.map((p) => ("operations" in p ? p : undefined));
}

function openstack(args: string[]): Promise<unknown> {
  const login = { url: h.url, username: "alice", password: h.password, project: "team-red", region: "cloud-2", home };
  return openstackJson(login, args);
}

beforeAll(async () => {
  const port = await freePort();
  prefix = `brk${port}`;
  h = await startFacade(port, {
    users: [
      { username: "alice", groups: ["team-red", "devs"] },
      { username: "bob", groups: ["team-red"] },
      { username: "carol", groups: ["team-blue"] },
    ],
    policies: { teams: TEAMS, flavors: flavorSet(prefix), baseline: BASELINE },
    // Its own deployment: other files' runs must not take these flavors for theirs (nor this run theirs).
    extraConfig: `deploymentId: ${prefix}\n`,
  });
  handmade = await clients("cloud-2")
    .flavors()
    .create({ name: `${prefix}-taken`, vcpus: 1, ram: 128, disk: 0, ephemeral: 0, swap: 0, isPublic: true });
}, 120_000);

afterAll(async () => {
  for (const id of CLOUDS) {
    const c = clients(id);
    for (const f of await c
      .flavors()
      .list()
      .catch(() => []))
      if (f.name.startsWith(prefix))
        await c
          .flavors()
          .delete(f.id)
          .catch(() => {});
  }
  // Quotas live in Nova, Cinder and Neutron, not in Keystone: reset them before the domain (and projects) go.
  for (const id of CLOUDS) {
    const c = clients(id);
    const domain = (await c.keystone.listDomains()).find((d) => d.name === h.domain);
    if (!domain) continue;
    for (const p of await c.keystone.listProjects({ domainId: domain.id }))
      for (const q of Object.values(c.quotas())) await q.reset(p.id).catch(() => {});
  }
  await h?.close();
  rmSync(home, { recursive: true, force: true });
}, 120_000);

describe("teams, quotas, flavors and security-group baselines through one running Archway and the real clouds", () => {
  it("converges in one full run: team projects held by Keystone groups, quotas in every service, flavors", async () => {
    // What `archway sync plan` shows first: every kind of change, and the hand-made flavor as a problem.
    const [planned] = await planOf("cloud-2");
    const kinds = new Set(planned?.operations.map((o) => o.kind));
    for (const k of ["createProject", "createGroup", "grantGroup", "setQuota", "createFlavor", "createSecurityGroup"])
      expect(kinds).toContain(k);
    expect(planned?.problems).toEqual([
      `flavor ${prefix}-taken exists without Archway's mark: not changed (FlavorSet standard)`,
    ]);
    const first = await fullRun();
    for (const id of CLOUDS) expect(first.get(id), id).toMatchObject({ outcome: "converged", failed: 0 });

    for (const id of CLOUDS) {
      const c = clients(id);
      const domain = (await c.keystone.listDomains()).find((d) => d.name === h.domain);
      const [red] = await teamRed(id);
      const [group] = await c.keystone.listGroups({ name: "team-red", domainId: domain?.id });
      expect(red && group, id).toBeTruthy();
      expect((await c.keystone.listGroupUsers(group!.id)).map((u) => u.name).sort(), id).toEqual(["alice", "bob"]);
      // The role is the group's: no person holds one of their own on the team's project.
      const onRed = await c.keystone.listRoleAssignments({ projectId: red!.id });
      expect(
        onRed.map((a) => (a.group ? "group" : "user")),
        id,
      ).toEqual(["group"]);
      expect(await c.quotas().compute.get(red!.id), id).toMatchObject({ cores: 8, ram: 16384, instances: 4 });
      expect(await c.quotas().volume.get(red!.id), id).toMatchObject({ volumes: 5, gigabytes: 100 });
      expect(await c.quotas().network.get(red!.id), id).toMatchObject({ security_group: 12, port: 60 });
      const [ssh] = await c.securityGroups().list({ projectId: red!.id, names: ["bastion-ssh"] });
      const rules = ssh?.rules.map((r) => `${r.direction} ${r.protocol} ${r.port_range_min} ${r.remote_ip_prefix}`);
      expect(rules?.sort(), id).toEqual(["ingress icmp null null", "ingress tcp 22 192.0.2.0/24"]);
      const flavors = (await c.flavors().list()).filter((f) => f.name.startsWith(prefix));
      // cloud-2's `taken` is the hand-made one; the other clouds get the set's.
      expect(flavors.map((f) => [f.name, f.vcpus]).sort(), id).toEqual([
        [`${prefix}-large`, 4],
        [`${prefix}-small`, 1],
        [`${prefix}-taken`, id === "cloud-2" ? 1 : 2],
      ]);
    }
  }, 300_000);

  it("writes nothing on the second run; a hand-made flavor of a wanted name and hand-made security groups stay as they were", async () => {
    // Hand-made groups in the team's own project: one with another name, and Neutron's own `default`.
    const sg = clients("cloud-2").securityGroups();
    const [red] = await teamRed("cloud-2");
    const byHand = await sg.create({ projectId: red!.id, name: "by-hand", description: "made by a person" });
    const before = (await sg.list({ projectId: red!.id })).filter((g) => g.name !== "bastion-ssh");
    expect(before.map((g) => g.name).sort()).toEqual(["by-hand", "default"]);
    const second = await fullRun();
    for (const id of CLOUDS) {
      expect(second.get(id), id).toMatchObject({ outcome: "converged", applied: 0 });
      expect((await planOf(id))[0]?.operations, id).toEqual([]);
    }
    expect((await clients("cloud-2").flavors().list()).find((f) => f.id === handmade.id)).toEqual(handmade);
    const after = (await sg.list({ projectId: red!.id })).filter((g) => g.name !== "bastion-ssh");
    expect(after).toEqual(before);
    expect(after.find((g) => g.id === byHand.id)).toBeDefined();
  }, 300_000);

  it("the real openstack CLI through the facade shows the team's quotas and the flavors in cloud-2", async () => {
    const shown = (await openstack(["quota", "show", "team-red"])) as Record<string, unknown>;
    expect(shown).toMatchObject({
      cores: 8,
      ram: 16384,
      instances: 4,
      volumes: 5,
      gigabytes: 100,
      secgroups: 12,
      ports: 60,
    });
    const listed = (await openstack(["flavor", "list"])) as { Name: string; VCPUs: number; RAM: number }[];
    const ours = listed.filter((f) => f.Name.startsWith(prefix)).map((f) => [f.Name, f.VCPUs, f.RAM]);
    expect(ours.sort()).toEqual(
      [
        [`${prefix}-large`, 4, 4096],
        [`${prefix}-small`, 1, 512],
        [`${prefix}-taken`, 1, 128], // the hand-made one, never Archway's
      ].sort(),
    );
  }, 240_000);
});
