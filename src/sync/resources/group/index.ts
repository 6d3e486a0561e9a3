import { mapLimit } from "../../../openstack/index.js";
import { ownsGroup, USER_MARK } from "../../ownership.js";
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

/** An owned group: its id and member user ids. */
export interface ObservedGroup {
  id: string;
  members: Set<string>;
}

/**
 * Groups in Archway's domain: those policies put people in (brokered clouds) and one per project role (federated
 * clouds). Created when missing; a group without Archway's mark is never read as Archway's. Owned groups no policy
 * names any more are left in place.
 */
export const groups: SyncResource<CreateGroup, Map<string, ObservedGroup>> = {
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
          () => ks.createGroup({ name: op.name, domain_id: domainId, [USER_MARK]: true }),
          async () => (await ks.listGroups({ domainId, name: op.name })).find((g) => g[USER_MARK] === true),
        );
        groupIds(ctx).set(op.name, group.id);
      },
    },
  },
};

async function observeGroups(ctx: ObserveContext): Promise<Map<string, ObservedGroup>> {
  const out = new Map<string, ObservedGroup>();
  const domainId = (await ctx.slice(domains)).id;
  if (!domainId) return out;
  const owned = (await ctx.clients.keystone.listGroups({ domainId })).filter((g) => ownsGroup(g, domainId));
  // Members only matter when policies name groups, or when Archway owns groups left from earlier policies.
  if (owned.length === 0 && ctx.input.desired.memberships.length === 0) return out;
  await mapLimit(owned, ctx.clients.limiter.max, async (g) => {
    const members = await ctx.clients.keystone.listGroupUsers(g.id);
    out.set(g.name, { id: g.id, members: new Set(members.map((m) => m.id)) });
  });
  return out;
}

/** Groups memberships of usable users name, then the groups of a federated cloud; each missing one created once. */
export function planGroups(ctx: PlanContext): Planned<CreateGroup> {
  const observed = ctx.observed(groups);
  const usable = usableUsers(ctx);
  const wanted = new Map<string, string[]>();
  for (const m of ctx.input.desired.memberships)
    if (usable.has(m.identityId) && !wanted.has(m.group)) wanted.set(m.group, m.policies);
  for (const [name, grants] of ctx.input.federation?.groups ?? [])
    if (!wanted.has(name)) wanted.set(name, [...new Set(grants.flatMap((g) => g.policies))]);
  const operations: CreateGroup[] = [];
  for (const [name, policies] of wanted)
    if (!observed.has(name)) operations.push({ kind: "createGroup", name, policies });
  return { operations };
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
