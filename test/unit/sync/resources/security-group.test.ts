import { describe, expect, it } from "vitest";
import type { SecurityGroupRuleReply } from "../../../../src/openstack/index.js";
import type { CompiledSecurityGroupBaseline, SecurityGroupRule } from "../../../../src/policy/index.js";
import { ProjectMap } from "../../../../src/sync/project-ref.js";
import type { ObservedProject } from "../../../../src/sync/resources/project/index.js";
import type { ObservedSecurityGroup } from "../../../../src/sync/resources/security-group/index.js";
import { groupDescription, groupMark } from "../../../../src/sync/resources/security-group/mark.js";
import { DOMAIN, desiredOf, kinds, OWN, observedOf, plan, project } from "./fixtures.js";

const ssh: SecurityGroupRule = {
  direction: "ingress",
  ethertype: "IPv4",
  protocol: "tcp",
  portRangeMin: 22,
  portRangeMax: 22,
  remoteIpPrefix: "192.0.2.0/24",
};
const icmp: SecurityGroupRule = { direction: "ingress", ethertype: "IPv4", protocol: "icmp" };

function baseline(extra: Partial<CompiledSecurityGroupBaseline> = {}): CompiledSecurityGroupBaseline {
  return {
    kind: "SecurityGroupBaseline",
    name: "bastion",
    origin: "b.yaml:1",
    clouds: ["cloud-1"],
    securityGroups: [{ name: "bastion-ssh", description: "SSH from the bastion", rules: [ssh, icmp] }],
    ...extra,
  };
}

/** Owned projects `web` and `db` in Archway's domain, and a hand-made one. */
function projects(): ProjectMap<ObservedProject> {
  const map = new ProjectMap<ObservedProject>();
  for (const name of ["web", "db"]) map.set({ domain: DOMAIN, name }, project(DOMAIN, name)[1]);
  map.set({ domain: "Default", name: "ops" }, project("Default", "ops", { owned: false, tags: [] })[1]);
  return map;
}

let ids = 0;
function observedRule(groupId: string, r: Partial<SecurityGroupRuleReply> = {}): SecurityGroupRuleReply {
  return {
    id: `rule-${++ids}`,
    security_group_id: groupId,
    direction: "ingress",
    ethertype: "IPv4",
    protocol: null,
    port_range_min: null,
    port_range_max: null,
    remote_ip_prefix: null,
    remote_group_id: null,
    remote_address_group_id: null,
    description: "",
    ...r,
  };
}

/** The rules of the baseline's group, as Neutron answers them. */
const converged = (groupId: string) => [
  observedRule(groupId, { protocol: "tcp", port_range_min: 22, port_range_max: 22, remote_ip_prefix: "192.0.2.0/24" }),
  observedRule(groupId, { protocol: "icmp" }),
];

function group(projectName: string, extra: Partial<ObservedSecurityGroup> = {}): ObservedSecurityGroup {
  const id = extra.id ?? `sg-${projectName}`;
  const description = extra.description ?? groupDescription("SSH from the bastion", "bastion", OWN);
  return {
    id,
    name: "bastion-ssh",
    projectId: `p-${DOMAIN}-${projectName}`,
    description,
    tags: ["archway:dep:t", "archway:managed"],
    rules: converged(id),
    mark: groupMark(description, OWN),
    ...extra,
  };
}

const planWith = (groups: ObservedSecurityGroup[], b = [baseline()], opts = {}) =>
  plan(desiredOf({ manifests: b }), observedOf({ project: projects(), "security-group": { groups } }), opts);

describe("security-group planner", () => {
  it("gives every owned project the baseline's groups with their rules, never a project Archway does not own", () => {
    const p = planWith([]);
    expect(kinds(p)).toEqual([
      ...["createSecurityGroup", "createSecurityGroupRule", "createSecurityGroupRule"],
      ...["createSecurityGroup", "createSecurityGroupRule", "createSecurityGroupRule"],
    ]);
    expect(p.operations[0]).toEqual({
      kind: "createSecurityGroup",
      project: { domain: DOMAIN, name: "db" },
      group: "bastion-ssh",
      description: "SSH from the bastion [archway:t:bastion]",
      tags: ["archway:dep:t", "archway:managed"],
      policies: ["bastion"],
    });
    expect(p.operations.some((o) => "project" in o && typeof o.project === "object" && o.project.name === "ops")).toBe(
      false,
    );
  });

  it("limits a baseline to the projects its globs name", () => {
    const p = planWith([], [baseline({ projects: ["w*"] })]);
    expect(p.operations.filter((o) => o.kind === "createSecurityGroup")).toEqual([
      expect.objectContaining({ project: { domain: DOMAIN, name: "web" } }),
    ]);
  });

  it("writes nothing when every owned project's group holds exactly its rules", () => {
    expect(planWith([group("web"), group("db")]).operations).toEqual([]);
  });

  it("replaces a changed rule (Neutron's rules are immutable) and removes a rule added by hand", () => {
    const web = group("web");
    const [sshRule] = web.rules;
    const handAdded = observedRule(web.id, { protocol: "tcp", port_range_min: 3389, port_range_max: 3389 });
    const moved = { ...ssh, remoteIpPrefix: "198.51.100.0/24" };
    const b = baseline({
      securityGroups: [{ name: "bastion-ssh", description: "SSH from the bastion", rules: [moved, icmp] }],
    });
    const p = planWith([{ ...web, rules: [...web.rules, handAdded] }, group("db")], [b]);
    const onWeb = p.operations.filter((o) =>
      "where" in o ? o.where === `${DOMAIN}/web` : o.kind === "createSecurityGroupRule" && o.project.name === "web",
    );
    expect(onWeb).toEqual([
      expect.objectContaining({
        kind: "deleteSecurityGroupRule",
        ruleId: sshRule?.id,
        rule: "ingress IPv4 tcp 22 from 192.0.2.0/24",
      }),
      expect.objectContaining({ kind: "deleteSecurityGroupRule", ruleId: handAdded.id }),
      expect.objectContaining({ kind: "createSecurityGroupRule", groupId: web.id, rule: moved }),
    ]);
    // Removals count against maxDeletesPerRun: web's two, db's changed ssh rule.
    expect(p.destructive).toBe(3);
  });

  it("leaves Neutron's default group and every group without the mark alone", () => {
    const defaultGroup = group("web", {
      id: "sg-default",
      name: "default",
      description: "Default security group",
      tags: [],
      mark: { owner: "none" },
    });
    const handMade = group("web", {
      id: "sg-hand",
      name: "web-extra",
      description: "by hand",
      tags: [],
      mark: { owner: "none" },
    });
    const p = planWith([defaultGroup, handMade, group("web"), group("db")]);
    expect(p.operations).toEqual([]);
  });

  it("an unowned group with a baseline's name is a problem, never adopted or changed", () => {
    const byHand = group("web", { description: "made by hand", tags: [], mark: { owner: "none" } });
    const p = planWith([byHand, group("db")]);
    expect(p.operations).toEqual([]);
    expect(p.problems).toEqual([expect.stringMatching(/bastion-ssh in project .*\/web exists without Archway's mark/)]);
  });

  it("another deployment's group is a problem, and never deleted", () => {
    const theirs = groupDescription("SSH", "bastion", { deploymentId: "other", adoptUnmarked: false });
    const foreign = group("web", { description: theirs, mark: groupMark(theirs, OWN) });
    expect(foreign.mark).toEqual({ owner: "other", deploymentId: "other" });
    const p = planWith([foreign, group("db")]);
    expect(p.operations).toEqual([]);
    expect(p.problems).toEqual([expect.stringContaining("marked by Archway deployment 'other'")]);
    const gone = planWith([foreign], []);
    expect(gone.operations).toEqual([]);
  });

  it("deletes an owned group no baseline asks for any more, counted against the deletes limit", () => {
    const p = planWith([group("web"), group("db")], []);
    expect(kinds(p)).toEqual(["deleteSecurityGroup", "deleteSecurityGroup"]);
    expect(p.operations[0]).toMatchObject({ groupId: "sg-web", where: `${DOMAIN}/web`, policies: [] });
    expect(p.destructive).toBe(2);
  });

  it("gives a project created in the same run its groups (they are applied in a later phase)", () => {
    const desired = desiredOf({
      manifests: [baseline()],
      projects: [{ name: "new", domain: DOMAIN, description: "", tags: [], create: true, policies: ["team"] }],
    });
    const p = plan(
      desired,
      observedOf({ project: projects(), "security-group": { groups: [group("web"), group("db")] } }),
    );
    expect(kinds(p)).toEqual([
      "createProject",
      "createSecurityGroup",
      "createSecurityGroupRule",
      "createSecurityGroupRule",
    ]);
    expect(p.operations[1]).toMatchObject({ project: { domain: DOMAIN, name: "new" } });
    expect(p.operations[2]).not.toHaveProperty("groupId");
  });

  it("fixes an owned group's description and missing tags", () => {
    const p = planWith([group("web", { description: "[archway:t:bastion]", tags: [] }), group("db")]);
    expect(p.operations).toEqual([
      expect.objectContaining({
        kind: "updateSecurityGroup",
        groupId: "sg-web",
        description: "SSH from the bastion [archway:t:bastion]",
        tags: ["archway:dep:t", "archway:managed"],
      }),
    ]);
  });

  it("matches rules whatever form Neutron stores them in (protocol numbers), remote groups by name", () => {
    const b = baseline({
      securityGroups: [
        {
          name: "bastion-ssh",
          rules: [ssh, icmp, { direction: "ingress", ethertype: "IPv4", protocol: "any", remoteGroup: "bastion-ssh" }],
        },
      ],
    });
    const description = groupDescription(undefined, "bastion", OWN);
    const rules = [
      observedRule("sg-web", {
        protocol: "6",
        port_range_min: 22,
        port_range_max: 22,
        remote_ip_prefix: "192.0.2.0/24",
      }),
      observedRule("sg-web", { protocol: "1" }),
      observedRule("sg-web", { remote_group_id: "sg-web" }),
    ];
    const web = group("web", { description, mark: groupMark(description, OWN), rules });
    const db = group("db", {
      description,
      mark: groupMark(description, OWN),
      rules: rules.map((r) => ({ ...r, remote_group_id: r.remote_group_id && "sg-db" })),
    });
    expect(planWith([web, db], [b]).operations).toEqual([]);
  });

  it("plans nothing in a just-in-time run, and says so when the cloud has no network service", () => {
    expect(planWith([], [baseline()], { people: new Set(["ldap:alice"]) }).operations).toEqual([]);
    const p = plan(
      desiredOf({ manifests: [baseline()] }),
      observedOf({ project: projects(), "security-group": { groups: [], unavailable: "no network service" } }),
    );
    expect(p.operations).toEqual([]);
    expect(p.problems).toEqual(["security-group baselines bastion: no network service"]);
  });

  it("two baselines asking for one group in one project: the first by name applies, the other is a problem", () => {
    const p = planWith([group("web"), group("db")], [baseline(), baseline({ name: "zz-other" })]);
    expect(p.operations).toEqual([]);
    expect(p.problems).toHaveLength(2);
    expect(p.problems[0]).toMatch(/in baselines bastion and zz-other: bastion's applies/);
  });
});
