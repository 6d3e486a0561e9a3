import { mapLimit, type RoleAssignment } from "../../../openstack/index.js";
import { DEPLOYMENT_ATTR, extraMark, extraMarks, whose } from "../../ownership.js";
import type { ApplyContext, ObserveContext, SyncResource } from "../../resource.js";
import { domains, requireDomain } from "../domain/index.js";
import { adoptOnConflict, ignoreNotFound, requireId } from "../idempotent.js";
import { namedGroups, planGroups } from "./plan.js";

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

/** Deletes an owned group no policy names any more (its roles and Archway's members are taken away in this run). */
export interface DeleteGroup {
  kind: "deleteGroup";
  name: string;
  groupId: string;
  policies: string[];
}

/** The operations on groups. */
export type GroupOperation = CreateGroup | MarkGroup | DeleteGroup;

/**
 * An owned group: its id and member user ids; `remark` when adopted with the old mark; `keepsRoles` when it holds a
 * role Archway never revokes (on a domain, the system, or inherited), read only for groups no policy names.
 */
export interface ObservedGroup {
  id: string;
  members: Set<string>;
  remark?: boolean;
  keepsRoles?: boolean;
}

/**
 * Owned groups by name; `foreign`: groups in Archway's domain this deployment does not own, name -> whose (absent
 * when there are none; a desired name among them is a problem, never adopted).
 */
export type GroupsObserved = Map<string, ObservedGroup> & { foreign?: Map<string, string> };

/**
 * Groups in Archway's domain: those policies put people in or give roles to (`assignTo: group`, brokered clouds) and
 * one per project role (federated clouds). Created when missing; a group without Archway's mark is never read as
 * Archway's, changed or deleted. Owned groups no policy names any more are deleted, see {@link planGroups}.
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
    deleteGroup: {
      // After the unlinks phase has revoked its roles and removed Archway's members.
      phase: "delete",
      action: () => "delete",
      describe: (op) => `delete group ${op.name} (no policy names it any more)`,
      async apply(ctx, op) {
        await ignoreNotFound(() => ctx.clients.keystone.deleteGroup(op.groupId));
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
  const keeping = keepingRoles(ctx, owned);
  const members = new Map<string, Set<string>>();
  await mapLimit(owned, ctx.clients.limiter.max, async (g) => {
    members.set(g.id, new Set((await ctx.clients.keystone.listGroupUsers(g.id)).map((m) => m.id)));
  });
  const keeps = await keeping;
  for (const g of owned)
    out.set(g.name, {
      id: g.id,
      members: members.get(g.id) ?? new Set(),
      ...(g.remark ? { remark: true } : {}),
      ...(keeps.has(g.id) ? { keepsRoles: true } : {}),
    });
  return out;
}

/**
 * Ids of owned groups no policy names that hold a role Archway never revokes (full runs only: a just-in-time run
 * deletes no group). The cloud's assignments are the list group-grant reads anyway, so this adds no call.
 */
async function keepingRoles(ctx: ObserveContext, owned: { id: string; name: string }[]): Promise<Set<string>> {
  const out = new Set<string>();
  if (ctx.opts.people) return out;
  const named = namedGroups(ctx.input);
  const unnamed = new Set(owned.filter((g) => !named.has(g.name)).map((g) => g.id));
  if (unnamed.size === 0) return out;
  for (const a of await ctx.reads.roleAssignments())
    if (a.group && unnamed.has(a.group.id) && kept(a)) out.add(a.group.id);
  return out;
}

/** A role assignment group-grant never revokes: anything but a plain (not inherited) project role. */
function kept(a: RoleAssignment): boolean {
  const scope = a.scope;
  return (
    !scope?.project || scope.domain !== undefined || scope.system !== undefined || "OS-INHERIT:inherited_to" in scope
  );
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

export { namedGroups, planGroups } from "./plan.js";
