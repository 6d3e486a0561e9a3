import type { SecurityGroupRuleReply } from "../../../openstack/index.js";
import {
  baselineProjects,
  type CompiledSecurityGroupBaseline,
  canonicalCidr,
  manifestsOf,
  RULE_PROTOCOLS,
  type SecurityGroupRule,
  type SecurityGroupSpec,
} from "../../../policy/index.js";
import { whose } from "../../ownership.js";
import { ProjectMap, type ProjectRef, projectLabel, tupleKey } from "../../project-ref.js";
import type { PlanContext, Planned } from "../../resource.js";
import { createdProjects, projects } from "../project/index.js";
import { type ObservedSecurityGroup, type SecurityGroupOperation, securityGroups } from "./index.js";
import { groupDescription, groupTags } from "./mark.js";

/** One group a baseline asks for in one project. */
interface Wanted {
  project: ProjectRef;
  /** Absent for a project created in this run. */
  projectId?: string;
  spec: SecurityGroupSpec;
  baseline: string;
}

/**
 * Security groups: every owned project a baseline targets gets its groups, each with exactly the baseline's rules.
 * Only groups with this deployment's description mark are changed: a rule that differs is deleted and created again
 * (Neutron's rules are immutable), a rule nobody asked for (added by hand) is deleted, and an owned group no
 * baseline asks for any more is deleted. A group with a baseline's name that is not this deployment's is a problem,
 * never touched. Just-in-time runs plan nothing here.
 */
export function planSecurityGroups(ctx: PlanContext): Planned<SecurityGroupOperation> {
  if (ctx.opts.people) return { operations: [] };
  const slice = ctx.observed(securityGroups);
  const baselines = manifestsOf(ctx.input.desired, "SecurityGroupBaseline").sort((a, b) => cmp(a.name, b.name));
  if (slice.unavailable)
    return {
      operations: [],
      problems: baselines.length > 0 ? [`security-group baselines ${names(baselines)}: ${slice.unavailable}`] : [],
    };
  const operations: SecurityGroupOperation[] = [];
  const problems: string[] = [];
  const { wanted, labels } = wantedGroups(ctx, baselines, problems);
  const byProject = new Map<string, ObservedSecurityGroup[]>();
  for (const g of slice.groups) {
    const list = byProject.get(g.projectId);
    if (list) list.push(g);
    else byProject.set(g.projectId, [g]);
  }
  const kept = new Set<string>();
  const tags = groupTags(ctx.input.ownership);
  for (const w of wanted) {
    const label = projectLabel(w.project);
    const description = groupDescription(w.spec.description, w.baseline, ctx.input.ownership);
    const here = w.projectId ? (byProject.get(w.projectId) ?? []) : [];
    const same = here.filter((g) => g.name === w.spec.name);
    const owned = same.find((g) => g.mark.owner === "self");
    const policies = [w.baseline];
    if (!owned) {
      const other = same[0];
      if (other) {
        problems.push(
          `security group ${w.spec.name} in project ${label} exists ${other.mark.owner === "other" ? whose({ owner: "other", deploymentId: other.mark.deploymentId }) : whose({ owner: "none" })}: baseline ${w.baseline} leaves it alone`,
        );
        continue;
      }
      operations.push({
        kind: "createSecurityGroup",
        project: w.project,
        group: w.spec.name,
        description,
        tags,
        policies,
      });
      for (const rule of w.spec.rules)
        operations.push({ kind: "createSecurityGroupRule", project: w.project, group: w.spec.name, rule, policies });
      continue;
    }
    kept.add(owned.id);
    // Tags are the listing index only: other tags a person added stay.
    const tagsDiffer = !tags.every((t) => owned.tags.includes(t));
    if (owned.description !== description || tagsDiffer)
      operations.push({
        kind: "updateSecurityGroup",
        where: label,
        group: owned.name,
        groupId: owned.id,
        ...(owned.description !== description ? { description } : {}),
        ...(tagsDiffer ? { tags: [...new Set([...owned.tags, ...tags])].sort() } : {}),
        policies,
      });
    // Remote groups by name: the owned groups of the same project (a rule naming another group means that one).
    const nameOf = new Map(here.filter((g) => g.mark.owner === "self").map((g) => [g.id, g.name]));
    const want = new Map<string, SecurityGroupRule[]>();
    for (const rule of w.spec.rules) {
      const key = desiredKey(rule);
      want.set(key, [...(want.get(key) ?? []), rule]);
    }
    for (const r of owned.rules) {
      const key = observedKey(r, nameOf);
      const match = want.get(key);
      if (match?.length) {
        match.shift();
        continue;
      }
      operations.push({
        kind: "deleteSecurityGroupRule",
        where: label,
        group: owned.name,
        ruleId: r.id,
        rule: observedText(r, nameOf),
        policies,
      });
    }
    for (const rules of want.values())
      for (const rule of rules)
        operations.push({
          kind: "createSecurityGroupRule",
          project: w.project,
          group: w.spec.name,
          groupId: owned.id,
          rule,
          policies,
        });
  }
  // Owned groups no baseline asks for (any more): deleted. Neutron's `default` is never Archway's.
  for (const g of slice.groups) {
    if (g.mark.owner !== "self" || kept.has(g.id) || g.name === "default") continue;
    operations.push({
      kind: "deleteSecurityGroup",
      where: labels.get(g.projectId) ?? `id ${g.projectId}`,
      group: g.name,
      groupId: g.id,
      policies: [],
    });
  }
  return { operations, problems };
}

/** Every (owned project, group) the baselines ask for; two baselines naming one group in one project: a problem. */
function wantedGroups(
  ctx: PlanContext,
  baselines: CompiledSecurityGroupBaseline[],
  problems: string[],
): { wanted: Wanted[]; labels: Map<string, string> } {
  const owned: { project: ProjectRef; projectId?: string }[] = [];
  const labels = new Map<string, string>();
  for (const [ref, p] of ctx.observed(projects).entries()) {
    labels.set(p.id, projectLabel(ref));
    if (p.owned) owned.push({ project: ref, projectId: p.id });
  }
  for (const [ref] of createdProjects(ctx).entries()) owned.push({ project: ref });
  owned.sort((a, b) => cmp(a.project.domain, b.project.domain) || cmp(a.project.name, b.project.name));
  const claimed = new ProjectMap<Map<string, string>>();
  const wanted: Wanted[] = [];
  for (const baseline of baselines) {
    const matches = baselineProjects(baseline);
    for (const o of owned) {
      if (!matches(o.project.name)) continue;
      const names = claimed.get(o.project) ?? new Map<string, string>();
      claimed.set(o.project, names);
      for (const spec of baseline.securityGroups) {
        const first = names.get(spec.name);
        if (first) {
          problems.push(
            `security group ${spec.name} in project ${projectLabel(o.project)} is in baselines ${first} and ${baseline.name}: ${first}'s applies`,
          );
          continue;
        }
        names.set(spec.name, baseline.name);
        wanted.push({ ...o, spec, baseline: baseline.name });
      }
    }
  }
  return { wanted, labels };
}

/** An IP protocol as a number where it has one (Neutron stores what it was sent: a name or a number). */
function protocolNumber(protocol: string | number | null, ethertype: string): number | string {
  if (protocol === null || protocol === "any") return "any";
  if (typeof protocol === "number") return protocol;
  if (/^\d+$/.test(protocol)) return Number(protocol);
  const name = protocol.toLowerCase();
  if (name === "icmp") return ethertype === "IPv6" ? 58 : RULE_PROTOCOLS.icmp;
  if (name === "ipv6-icmp" || name === "icmpv6") return 58;
  return name in RULE_PROTOCOLS ? RULE_PROTOCOLS[name as keyof typeof RULE_PROTOCOLS] : name;
}

/** What makes two rules the same: every field, the description too (a changed description is a new rule). */
function ruleKey(r: {
  direction: string;
  ethertype: string;
  protocol: number | string;
  min: number | null;
  max: number | null;
  remoteIp: string | null;
  remoteGroup: string | null;
  description: string;
}): string {
  return tupleKey(
    r.direction,
    r.ethertype,
    String(r.protocol),
    String(r.min),
    String(r.max),
    r.remoteIp ?? "",
    r.remoteGroup ?? "",
    r.description,
  );
}

function desiredKey(rule: SecurityGroupRule): string {
  return ruleKey({
    direction: rule.direction,
    ethertype: rule.ethertype,
    protocol: protocolNumber(rule.protocol, rule.ethertype),
    min: rule.portRangeMin ?? null,
    max: rule.portRangeMax ?? null,
    remoteIp: rule.remoteIpPrefix ?? null,
    remoteGroup: rule.remoteGroup !== undefined ? `group:${rule.remoteGroup}` : null,
    description: rule.description ?? "",
  });
}

function observedKey(r: SecurityGroupRuleReply, nameOf: ReadonlyMap<string, string>): string {
  const groupName = r.remote_group_id ? nameOf.get(r.remote_group_id) : undefined;
  return ruleKey({
    direction: r.direction,
    ethertype: r.ethertype,
    protocol: protocolNumber(r.protocol, r.ethertype),
    min: r.port_range_min,
    max: r.port_range_max,
    remoteIp: r.remote_ip_prefix ? (canonicalCidr(r.remote_ip_prefix)?.cidr ?? r.remote_ip_prefix) : null,
    // A remote group Archway does not own, or an address group: never one of the baseline's rules.
    remoteGroup: r.remote_address_group_id
      ? `address-group:${r.remote_address_group_id}`
      : r.remote_group_id
        ? groupName !== undefined
          ? `group:${groupName}`
          : `id:${r.remote_group_id}`
        : null,
    description: r.description,
  });
}

/** A baseline rule as a person reads it in a plan: `ingress IPv4 tcp 22 from 192.0.2.0/24`. */
export function ruleText(r: SecurityGroupRule): string {
  return text(
    r.direction,
    r.ethertype,
    String(r.protocol),
    r.portRangeMin,
    r.portRangeMax,
    r.remoteIpPrefix ?? (r.remoteGroup !== undefined ? `group ${r.remoteGroup}` : undefined),
  );
}

function observedText(r: SecurityGroupRuleReply, nameOf: ReadonlyMap<string, string>): string {
  const remote =
    r.remote_ip_prefix ??
    (r.remote_group_id ? `group ${nameOf.get(r.remote_group_id) ?? r.remote_group_id}` : undefined) ??
    (r.remote_address_group_id ? `address group ${r.remote_address_group_id}` : undefined);
  return text(
    r.direction,
    r.ethertype,
    r.protocol ?? "any",
    r.port_range_min ?? undefined,
    r.port_range_max ?? undefined,
    remote,
  );
}

function text(
  direction: string,
  ethertype: string,
  protocol: string,
  min?: number,
  max?: number,
  remote?: string,
): string {
  const ports = min === undefined ? "" : max === undefined || max === min ? ` ${min}` : ` ${min}-${max}`;
  const where = direction === "ingress" ? "from" : "to";
  return `${direction} ${ethertype} ${protocol}${ports} ${where} ${remote ?? "anywhere"}`;
}

function names(baselines: { name: string }[]): string {
  return baselines.map((b) => b.name).join(", ");
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
