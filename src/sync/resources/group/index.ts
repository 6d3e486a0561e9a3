import { mapLimit } from "../../../openstack/index.js";
import { DEPLOYMENT_ATTR, extraMark, extraMarks, whose } from "../../ownership.js";
import type { ApplyContext, ObserveContext, PlanContext, Planned, SyncResource } from "../../resource.js";
import { domains, requireDomain } from "../domain/index.js";
import { adoptOnConflict, requireId } from "../idempotent.js";
import { usableUsers } from "../user/index.js";

/** Creates a group in Archway's domain, marked as Archway's. */
export interface CreateGroup {
  kind: "createGroup";
  name: string;
  policies: string[];
}

/** Writes this deployment's mark on a group adopted with the old mark (`sync.adoptUnmarked`). */
export interface MarkGroup {
  kind: "markGroup";
  name: string;
  groupId: string;
  policies: string[];
}

/** The operations on groups. */
export type GroupOperation = CreateGroup | MarkGroup;

/** An owned group: its id and member user ids; `remark` when adopted with the old mark. */
export interface ObservedGroup {
  id: string;
  members: Set<string>;
  remark?: boolean;
}

/**
 * Owned groups by name; `foreign`: groups in Archway's domain this deployment does not own, name -> whose (absent
 * when there are none; a desired name among them is a problem, never adopted).
 */
export type GroupsObserved = Map<string, ObservedGroup> & { foreign?: Map<string, string> };

/**
 * Groups in Archway's domain: those policies put people in or give roles to (`assignTo: group`, brokered clouds) and
 * one per project role (federated clouds). Created when missing; a group without Archway's mark is never read as Archway's. Owned groups no policy
 * names any more are left in place.
 */
export const groups: SyncResource<GroupOperation, GroupsObserved> = {
  name: "group",
  observe: observeGroups,
  plan: planGroups,
  steps: {
    createGroup: {
      phase: "objects",
      action: () => "create",
      describe: (op) => `create group ${op.name}`,
      async apply(ctx, op) {
        const domainId = requireDomain(ctx);
        const ks = ctx.clients.keystone;
        const group = await adoptOnConflict(
          () => ks.createGroup({ name: op.name, domain_id: domainId, ...extraMarks(ctx.ownership) }),
          async () =>
            (await ks.listGroups({ domainId, name: op.name })).find(
              (g) => extraMark(g, domainId, ctx.ownership).owner === "self",
            ),
        );
        groupIds(ctx).set(op.name, group.id);
      },
    },
    markGroup: {
      phase: "objects",
      action: () => "update",
      describe: (op) => `mark group ${op.name} as this deployment's (adopted)`,
      async apply(ctx, op) {
        await ctx.clients.keystone.updateGroup(op.groupId, { [DEPLOYMENT_ATTR]: ctx.ownership.deploymentId });
      },
    },
  },
};

async function observeGroups(ctx: ObserveContext): Promise<GroupsObserved> {
  const out: GroupsObserved = Object.assign(new Map<string, ObservedGroup>(), { foreign: new Map<string, string>() });
  const domainId = (await ctx.slice(domains)).id;
  if (!domainId) return out;
  const owned: { id: string; name: string; remark: boolean }[] = [];
  for (const g of await ctx.clients.keystone.listGroups({ domainId })) {
    const mark = extraMark(g, domainId, ctx.input.ownership);
    if (mark.owner === "self") owned.push({ id: g.id, name: g.name, remark: mark.remark });
    else out.foreign?.set(g.name, whose(mark));
  }
  // Members only matter when policies name groups, or when Archway owns groups left from earlier policies.
  if (owned.length === 0 && ctx.input.desired.memberships.length === 0) return out;
  await mapLimit(owned, ctx.clients.limiter.max, async (g) => {
    const members = await ctx.clients.keystone.listGroupUsers(g.id);
    out.set(g.name, { id: g.id, members: new Set(members.map((m) => m.id)), ...(g.remark ? { remark: true } : {}) });
  });
  return out;
}

/**
 * Groups memberships of usable users name, groups that hold roles, then the groups of a federated cloud; each missing
 * one created once.
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
  return { operations, problems };
}

/** Group ids by name during an apply run: observed, plus those created in this run. */
function groupIds(ctx: ApplyContext): Map<string, string> {
  return ctx.memo(observedGroupIds);
}

function observedGroupIds(ctx: ApplyContext): Map<string, string> {
  return new Map([...ctx.observed(groups)].map(([name, g]) => [name, g.id]));
}

/** The id of a group during apply; throws `sync_unresolved` when an earlier step did not make it. */
export function groupIdOf(ctx: ApplyContext, name: string): string {
  return requireId(groupIds(ctx), name, "group");
}
