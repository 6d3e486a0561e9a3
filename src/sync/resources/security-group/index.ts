import { ArchwayError, isArchwayError } from "../../../errors.js";
import { isUpstreamStatus, type SecurityGroup, type SecurityGroupRuleWrite } from "../../../openstack/index.js";
import { manifestsOf, type SecurityGroupRule } from "../../../policy/index.js";
import { deploymentTag } from "../../ownership.js";
import { type ProjectRef, projectLabel, tupleKey } from "../../project-ref.js";
import type { ApplyContext, ObserveContext, SyncResource } from "../../resource.js";
import { adoptOnConflict, ignoreNotFound } from "../idempotent.js";
import { projectIdOf } from "../project/index.js";
import { type GroupMark, groupMark } from "./mark.js";
import { planSecurityGroups, ruleText } from "./plan.js";

/** Creates an owned group (marked, tagged) in a project; its rules follow as their own operations. */
export interface CreateSecurityGroup {
  kind: "createSecurityGroup";
  project: ProjectRef;
  group: string;
  description: string;
  tags: string[];
  policies: string[];
}

/** Fixes an owned group's description or tags (a field absent stays as it is). */
export interface UpdateSecurityGroup {
  kind: "updateSecurityGroup";
  where: string;
  group: string;
  groupId: string;
  description?: string;
  tags?: string[];
  policies: string[];
}

/** Deletes an owned group no baseline asks for any more. */
export interface DeleteSecurityGroup {
  kind: "deleteSecurityGroup";
  where: string;
  group: string;
  groupId: string;
  policies: string[];
}

/** Adds a rule to an owned group (existing, or created earlier in the run: then `groupId` is absent). */
export interface CreateSecurityGroupRule {
  kind: "createSecurityGroupRule";
  project: ProjectRef;
  group: string;
  groupId?: string;
  rule: SecurityGroupRule;
  policies: string[];
}

/** Removes a rule from an owned group: no longer asked for, changed (rules are immutable), or added by hand. */
export interface DeleteSecurityGroupRule {
  kind: "deleteSecurityGroupRule";
  where: string;
  group: string;
  ruleId: string;
  /** The rule as a person reads it. */
  rule: string;
  policies: string[];
}

/** The operations on Neutron security groups. */
export type SecurityGroupOperation =
  | CreateSecurityGroup
  | UpdateSecurityGroup
  | DeleteSecurityGroup
  | CreateSecurityGroupRule
  | DeleteSecurityGroupRule;

/** A group as sync sees it, with its mark read. */
export interface ObservedSecurityGroup extends SecurityGroup {
  mark: GroupMark;
}

/** What observe read: this deployment's groups and every group named like a baseline's, or why nothing. */
export interface SecurityGroupSlice {
  groups: ObservedSecurityGroup[];
  /** The cloud has no network service in its catalog (or the run is just-in-time: nothing read). */
  unavailable?: string;
}

/**
 * Security-group baselines (`kind: SecurityGroupBaseline`): every project Archway owns that a baseline targets gets
 * its groups with exactly its rules. Only groups carrying this deployment's description mark are changed or deleted
 * (see `mark.ts`); Neutron's `default` group and groups made by hand never are.
 */
export const securityGroups: SyncResource<SecurityGroupOperation, SecurityGroupSlice> = {
  name: "security-group",
  observe: observeGroups,
  plan: planSecurityGroups,
  steps: {
    updateSecurityGroup: {
      phase: "links",
      action: () => "update",
      describe: (op) =>
        `update security group ${op.group} in project ${op.where} (${[op.description !== undefined && "description", op.tags && "tags"].filter(Boolean).join(", ")})`,
      async apply(ctx, op) {
        const client = ctx.clients.securityGroups();
        if (op.description !== undefined) await client.updateDescription(op.groupId, op.description);
        if (op.tags) await client.setTags(op.groupId, op.tags);
      },
    },
    createSecurityGroup: {
      // After `objects`: the project may be created in this run.
      phase: "links",
      action: () => "create",
      describe: (op) => `create security group ${op.group} in project ${projectLabel(op.project)}`,
      async apply(ctx, op) {
        const client = ctx.clients.securityGroups();
        const projectId = projectIdOf(ctx, op.project);
        const group = await adoptOnConflict(
          () => client.create({ projectId, name: op.group, description: op.description }),
          async () =>
            (await client.list({ projectId, names: [op.group] })).find((g) => g.description === op.description),
        );
        await client.setTags(group.id, op.tags);
        // Neutron gives every new group its default egress rules; the group's rules are exactly the baseline's,
        // created in the next phase.
        await Promise.all(group.rules.map((r) => ignoreNotFound(() => client.deleteRule(r.id))));
        groupIds(ctx).set(tupleKey(projectId, op.group), group.id);
      },
    },
    deleteSecurityGroupRule: {
      // Before the creates: a rule whose description changed is a duplicate for Neutron until the old one is gone.
      phase: "links",
      action: () => "delete",
      describe: (op) => `remove rule ${op.rule} from security group ${op.group} in project ${op.where}`,
      async apply(ctx, op) {
        await ignoreNotFound(() => ctx.clients.securityGroups().deleteRule(op.ruleId));
      },
    },
    createSecurityGroupRule: {
      // After every group of the run exists: a rule may name another group as its remote.
      phase: "unlinks",
      action: () => "create",
      describe: (op) =>
        `add rule ${ruleText(op.rule)} to security group ${op.group} in project ${projectLabel(op.project)}`,
      async apply(ctx, op) {
        const projectId = projectIdOf(ctx, op.project);
        const ids = groupIds(ctx);
        const groupId = op.groupId ?? requireGroup(ids, projectId, op.group, op.project);
        const body = ruleWrite(op.rule, groupId);
        if (op.rule.remoteGroup !== undefined)
          body.remote_group_id = requireGroup(ids, projectId, op.rule.remoteGroup, op.project);
        try {
          await ctx.clients.securityGroups().createRule(body);
        } catch (err) {
          // 409: the same rule is there already (an interrupted earlier run made it).
          if (!isUpstreamStatus(err, 409)) throw err;
        }
      },
    },
    deleteSecurityGroup: {
      phase: "delete",
      action: () => "delete",
      describe: (op) => `delete security group ${op.group} in project ${op.where}`,
      async apply(ctx, op) {
        await ignoreNotFound(() => ctx.clients.securityGroups().delete(op.groupId));
      },
    },
  },
};

async function observeGroups(ctx: ObserveContext): Promise<SecurityGroupSlice> {
  // Just-in-time runs are about people: they never touch security groups.
  if (ctx.opts.people) return { groups: [], unavailable: "just-in-time run" };
  const { ownership, desired } = ctx.input;
  const client = ctx.clients.securityGroups();
  // Groups named like a baseline's but not tagged as ours: hand-made, another deployment's, or ours untagged.
  const names = [
    ...new Set(manifestsOf(desired, "SecurityGroupBaseline").flatMap((b) => b.securityGroups.map((g) => g.name))),
  ].sort();
  let tagged: SecurityGroup[];
  let named: SecurityGroup[];
  try {
    // Both lists at once (one round trip): this deployment's groups in every project, rules included (the tag
    // filter is server-side), and the groups named like a baseline's.
    [tagged, named] = await Promise.all([
      client.list({ tags: [deploymentTag(ownership.deploymentId)] }),
      names.length > 0 ? client.list({ names }) : Promise.resolve([]),
    ]);
  } catch (err) {
    if (isArchwayError(err) && err.code === "endpoint_not_found")
      return { groups: [], unavailable: "the cloud's catalog has no network service (Neutron)" };
    throw err;
  }
  const byId = new Map<string, SecurityGroup>();
  for (const g of [...tagged, ...named]) byId.set(g.id, g);
  return { groups: [...byId.values()].map((g) => ({ ...g, mark: groupMark(g.description, ownership) })) };
}

/** Owned group ids during apply, by (project id, group name): observed, plus those created in this run. */
function groupIds(ctx: ApplyContext): Map<string, string> {
  return ctx.memo(observedGroupIds);
}

function observedGroupIds(ctx: ApplyContext): Map<string, string> {
  const ids = new Map<string, string>();
  for (const g of ctx.observed(securityGroups).groups)
    if (g.mark.owner === "self") ids.set(tupleKey(g.projectId, g.name), g.id);
  return ids;
}

function requireGroup(ids: Map<string, string>, projectId: string, name: string, project: ProjectRef): string {
  const id = ids.get(tupleKey(projectId, name));
  if (id) return id;
  throw new ArchwayError(
    "sync_unresolved",
    `security group ${name} in project ${projectLabel(project)} does not exist (an earlier step failed)`,
    409,
  );
}

/** Neutron's fields for a baseline rule (ICMP on IPv6 is `ipv6-icmp`). */
function ruleWrite(rule: SecurityGroupRule, groupId: string): SecurityGroupRuleWrite {
  const protocol =
    rule.protocol === "any"
      ? undefined
      : rule.protocol === "icmp" && rule.ethertype === "IPv6"
        ? "ipv6-icmp"
        : String(rule.protocol);
  return {
    security_group_id: groupId,
    direction: rule.direction,
    ethertype: rule.ethertype,
    ...(protocol !== undefined ? { protocol } : {}),
    ...(rule.portRangeMin !== undefined ? { port_range_min: rule.portRangeMin } : {}),
    ...(rule.portRangeMax !== undefined ? { port_range_max: rule.portRangeMax } : {}),
    ...(rule.remoteIpPrefix !== undefined ? { remote_ip_prefix: rule.remoteIpPrefix } : {}),
    ...(rule.description !== undefined ? { description: rule.description } : {}),
  };
}
