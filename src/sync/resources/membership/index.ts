import { tupleKey } from "../../project-ref.js";
import type { PlanContext, Planned, SyncResource } from "../../resource.js";
import { groupIdOf, groups } from "../group/index.js";
import { ignoreNotFound } from "../idempotent.js";
import { usableUsers, userIdOf, users } from "../user/index.js";

/** The operations on group memberships of shadow users. */
export type MembershipOperation =
  | { kind: "addMember"; group: string; identityId: string; username: string; policies: string[] }
  | { kind: "removeMember"; group: string; groupId: string; userId: string; username: string; policies: string[] };

/**
 * Members of Archway's groups: usable users are added where policies say; Archway's own users leave Archway's
 * groups when no policy keeps them there. A member Archway does not own (added by hand) stays. Members are read with
 * the groups, so this resource reads nothing of its own.
 */
export const memberships: SyncResource<MembershipOperation, null> = {
  name: "membership",
  observe: async () => null,
  plan: planMemberships,
  steps: {
    addMember: {
      phase: "links",
      action: () => "create",
      describe: (op) => `add ${op.username} to group ${op.group}`,
      async apply(ctx, op) {
        await ctx.clients.keystone.addUserToGroup(groupIdOf(ctx, op.group), userIdOf(ctx, op.identityId));
      },
    },
    removeMember: {
      phase: "unlinks",
      action: () => "revoke",
      describe: (op) => `remove ${op.username} from group ${op.group}`,
      async apply(ctx, op) {
        await ignoreNotFound(() => ctx.clients.keystone.removeUserFromGroup(op.groupId, op.userId));
      },
    },
  },
};

/** See {@link memberships}. */
export function planMemberships(ctx: PlanContext): Planned<MembershipOperation> {
  const operations: MembershipOperation[] = [];
  const observedGroups = ctx.observed(groups);
  const observedUsers = ctx.observed(users).byIdentity;
  const usable = usableUsers(ctx);
  const wanted = new Set<string>();
  for (const m of ctx.input.desired.memberships) {
    const user = usable.get(m.identityId);
    if (!user) continue;
    const userId = observedUsers.get(m.identityId)?.id;
    const group = observedGroups.get(m.group);
    // Another deployment's (or a hand-made) group of that name: the group planner reports it; no members added.
    if (!group && observedGroups.foreign?.has(m.group)) continue;
    if (userId) wanted.add(tupleKey(m.group, userId));
    if (!group || !userId || !group.members.has(userId)) {
      operations.push({
        kind: "addMember",
        group: m.group,
        identityId: m.identityId,
        username: user.username,
        policies: m.policies,
      });
    }
  }
  const byUserId = new Map([...observedUsers.values()].map((u) => [u.id, u]));
  for (const [name, group] of observedGroups) {
    for (const userId of group.members) {
      const user = byUserId.get(userId);
      if (!user || !ctx.inScope(user.identityId) || wanted.has(tupleKey(name, userId))) continue;
      operations.push({
        kind: "removeMember",
        group: name,
        groupId: group.id,
        userId,
        username: user.name,
        policies: [],
      });
    }
  }
  return { operations };
}
