import { afterAll, describe, expect, it } from "vitest";
import type { Identity } from "../../../src/identity/index.js";
import type { SecurityGroup } from "../../../src/openstack/index.js";
import { compilePolicies, type DesiredCloudState, desiredState } from "../../../src/policy/index.js";
import { createHarness } from "./harness.js";

// Security-group baselines against the real Keystone and neutron-server of cloud-2.
const h = createHarness();
const cloud = h.clouds[1]!;
const c = h.clients(cloud);
const sg = c.securityGroups();

const alice: Identity = {
  id: "test:alice",
  source: "test",
  username: "alice",
  email: "alice@example.org",
  displayName: "Alice",
  groups: [],
  groupDns: [],
  sshKeys: [],
  attributes: {},
};

/** A policy giving alice two projects Archway creates in cloud-2, and the bastion baseline for every owned project. */
function desired(bastionRange: string): DesiredCloudState {
  const text = `apiVersion: archway.dev/v1
kind: AccessPolicy
metadata: { name: team }
spec:
  clouds: { names: [${cloud.id}] }
  grants:
    - { project: web, domain: ${h.domain}, roles: [member] }
    - { project: db, domain: ${h.domain}, roles: [member] }
---
apiVersion: archway.dev/v1
kind: SecurityGroupBaseline
metadata: { name: bastion }
spec:
  clouds: { names: [${cloud.id}] }
  securityGroups:
    - name: bastion-ssh
      description: SSH from the bastion hosts
      rules:
        - { direction: ingress, protocol: tcp, portRangeMin: 22, remoteIpPrefix: ${bastionRange} }
        - { direction: ingress, protocol: icmp }
`;
  const { policies, problems } = compilePolicies([{ file: "team.yaml", text }], {
    clouds: h.clouds,
    sources: ["test"],
    roles: ["member", "reader"],
  });
  expect(problems).toEqual([]);
  const state = desiredState([alice], policies).get(cloud.id);
  if (!state) throw new Error("no desired state for cloud-2");
  return state;
}

let runs = 0;
const run = (state: DesiredCloudState) => h.engine().run(cloud.id, state, { runId: `sg-${++runs}` });

async function projectId(name: string): Promise<string> {
  const [domain] = await c.keystone.listDomains({ name: h.domain });
  const [p] = await c.keystone.listProjects({ domainId: domain!.id, name });
  return p!.id;
}

/** A group's rules as comparable text, without ids. */
const rulesOf = (g: SecurityGroup | undefined) =>
  (g?.rules ?? [])
    .map((r) =>
      [r.direction, r.ethertype, r.protocol, r.port_range_min, r.port_range_max, r.remote_ip_prefix]
        .map((x) => x ?? "-")
        .join(" "),
    )
    .sort();

const groupsIn = async (id: string) => sg.list({ projectId: id });

afterAll(async () => {
  // Keystone does not delete a project's Neutron objects: the groups go first, then the test domain.
  const [domain] = await c.keystone.listDomains({ name: h.domain }).catch(() => []);
  if (domain) {
    for (const p of await c.keystone.listProjects({ domainId: domain.id }).catch(() => [])) {
      for (const g of await groupsIn(p.id).catch(() => [])) await sg.delete(g.id).catch(() => {});
    }
  }
  await h.cleanup();
});

describe("security-group baselines against the real neutron-server", () => {
  it("converges in one run for the owned projects of a policy, and a second run writes nothing", async () => {
    const first = await run(desired("192.0.2.0/24"));
    expect(first.apply?.failed).toEqual([]);
    expect(first.plan?.problems).toEqual([]);
    expect(first.plan?.operations.filter((o) => o.kind === "createSecurityGroup")).toHaveLength(2);
    for (const name of ["web", "db"]) {
      const groups = await groupsIn(await projectId(name));
      const bastion = groups.find((g) => g.name === "bastion-ssh");
      expect(bastion?.description).toBe(`SSH from the bastion hosts [archway:${h.domain}:bastion]`);
      expect(rulesOf(bastion)).toEqual(["ingress IPv4 icmp - - -", "ingress IPv4 tcp 22 22 192.0.2.0/24"]);
    }
    const before = h.requests.length;
    const second = await run(desired("192.0.2.0/24"));
    expect(second.plan?.operations).toEqual([]);
    expect(h.writes(before)).toEqual([]);
    // One tag-filtered list and one by name for the whole cloud, not one per project.
    expect(h.requests.slice(before).filter((r) => r.operation === "neutron.security_groups.list")).toHaveLength(2);
  });

  it("replaces a changed rule, removes a rule added by hand, and never touches default or unowned groups", async () => {
    const web = await projectId("web");
    // Made by hand, straight in Neutron: a group in the owned project, and one with the baseline's name in a
    // project Archway does not own.
    const [domain] = await c.keystone.listDomains({ name: h.domain });
    const other = await c.keystone.createProject({ name: "handmade", domain_id: domain!.id });
    const byHand = await sg.create({ projectId: web, name: "by-hand", description: "made by a person" });
    await sg.createRule({
      security_group_id: byHand.id,
      direction: "ingress",
      ethertype: "IPv4",
      protocol: "tcp",
      port_range_min: 80,
      port_range_max: 80,
    });
    const sameName = await sg.create({ projectId: other.id, name: "bastion-ssh", description: "not Archway's" });
    const owned = (await groupsIn(web)).find((g) => g.name === "bastion-ssh")!;
    const handRule = await sg.createRule({
      security_group_id: owned.id,
      direction: "ingress",
      ethertype: "IPv4",
      protocol: "tcp",
      port_range_min: 3389,
      port_range_max: 3389,
    });
    const snapshot = async () =>
      Object.fromEntries(
        [...(await groupsIn(web)), ...(await groupsIn(other.id))]
          .filter((g) => g.id !== owned.id)
          .map((g) => [g.id, { name: g.name, description: g.description, rules: g.rules.map((r) => r.id).sort() }]),
      );
    const untouched = await snapshot();
    expect(
      Object.values(untouched)
        .map((g) => g.name)
        .sort(),
    ).toEqual(["bastion-ssh", "by-hand", "default", "default"]);

    const changed = await run(desired("198.51.100.0/24"));
    expect(changed.apply?.failed).toEqual([]);
    expect(changed.plan?.problems).toEqual([]);
    const kinds = changed.plan?.operations.map((o) => o.kind).sort();
    // Per project: the old SSH rule out and the new one in; in web also the hand-added rule out.
    expect(kinds).toEqual([
      ...["createSecurityGroupRule", "createSecurityGroupRule"],
      ...["deleteSecurityGroupRule", "deleteSecurityGroupRule", "deleteSecurityGroupRule"],
    ]);
    const after = (await groupsIn(web)).find((g) => g.id === owned.id);
    expect(rulesOf(after)).toEqual(["ingress IPv4 icmp - - -", "ingress IPv4 tcp 22 22 198.51.100.0/24"]);
    expect(after?.rules.map((r) => r.id)).not.toContain(handRule.id);
    expect(await snapshot()).toEqual(untouched);
    expect(sameName.id in untouched).toBe(true);

    const before = h.requests.length;
    expect((await run(desired("198.51.100.0/24"))).plan?.operations).toEqual([]);
    expect(h.writes(before)).toEqual([]);
    expect(await snapshot()).toEqual(untouched);
  });
});
