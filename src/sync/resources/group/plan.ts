import type { PlanContext, Planned, SyncInput } from "../../resource.js";
import { usableUsers, users } from "../user/index.js";
import { type GroupOperation, groups } from "./index.js";

/**
 * Groups memberships of usable users name, groups that hold roles, then the groups of a federated cloud; each missing
 * one created once. An owned group no policy names any more is deleted (see {@link deletable}).
 */
export function planGroups(ctx: PlanContext): Planned<GroupOperation> {
  const observed = ctx.observed(groups);
  const usable = usableUsers(ctx);
  const wanted = new Map<string, string[]>();
  for (const m of ctx.input.desired.memberships)
    if (usable.has(m.identityId) && !wanted.has(m.group)) wanted.set(m.group, m.policies);
  for (const [name, grants] of ctx.input.federation?.groups ?? [])
    if (!wanted.has(name)) wanted.set(name, [...new Set(grants.flatMap((g) => g.policies))]);
  // Groups that hold roles (`assignTo: group`) exist even before a member's user does, so their grants can be made.
  for (const g of ctx.input.desired.groupGrants ?? []) if (!wanted.has(g.group)) wanted.set(g.group, g.policies);
  const operations: GroupOperation[] = [];
  const problems: string[] = [];
  for (const [name, policies] of wanted) {
    if (observed.has(name)) continue;
    const foreign = observed.foreign?.get(name);
    if (foreign !== undefined) problems.push(`group ${name} exists ${foreign}: not adopted`);
    else operations.push({ kind: "createGroup", name, policies });
  }
  // Adopted groups with the old mark get this deployment's, wanted or not (so adoption can be switched off).
  for (const [name, group] of observed)
    if (group.remark) operations.push({ kind: "markGroup", name, groupId: group.id, policies: [] });
  for (const [name, group] of observed)
    if (deletable(ctx, name)) operations.push({ kind: "deleteGroup", name, groupId: group.id, policies: [] });
  return { operations, problems };
}

/**
 * Every group name a policy asks for in this cloud: memberships (usable users or not: a name clash on one user does
 * not make the team's group unwanted), `assignTo: group` grants, and a federated cloud's project-role groups.
 */
export function namedGroups(input: SyncInput): Set<string> {
  const named = new Set(input.desired.memberships.map((m) => m.group));
  for (const g of input.desired.groupGrants ?? []) named.add(g.group);
  for (const name of input.federation?.groups.keys() ?? []) named.add(name);
  return named;
}

/**
 * An owned group is deleted when no policy names it, in a full run only (a just-in-time run sees a few people's
 * grants, not the cloud's), and only when nothing but what this run takes away holds it: its project roles are
 * revoked in this run (group-grant revokes every one of a group no policy names), it holds no other role (domain,
 * system or inherited: an operator's, never revoked) and has no member besides Archway's own users (removed in this
 * run; a member added by hand keeps the group). No grace period as users have: a group owns nothing of its own, the
 * roles and members it loses are taken away in this same run whether it is deleted or not, and a team that comes
 * back gets an equal group from the next run.
 */
function deletable(ctx: PlanContext, name: string): boolean {
  if (ctx.opts.people || ctx.memo(namedInPlan).has(name)) return false;
  const group = ctx.observed(groups).get(name);
  if (!group || group.remark || group.keepsRoles) return false;
  const own = ownUserIds(ctx);
  return [...group.members].every((id) => own.has(id));
}

function namedInPlan(ctx: PlanContext): Set<string> {
  return namedGroups(ctx.input);
}

function ownUserIds(ctx: PlanContext): Set<string> {
  return ctx.memo(findOwnUserIds);
}

function findOwnUserIds(ctx: PlanContext): Set<string> {
  return new Set([...ctx.observed(users).byIdentity.values()].map((u) => u.id));
}
