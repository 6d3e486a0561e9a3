import { mapLimit } from "../../../openstack/index.js";
import type { DesiredGroupGrant } from "../../../policy/index.js";
import { type ProjectRef, projectLabel, tupleKey } from "../../project-ref.js";
import type { ObserveContext, PlanContext, Planned, SyncResource } from "../../resource.js";
import { labelsById } from "../assignment/plan.js";
import { domains } from "../domain/index.js";
import { groupIdOf, groups } from "../group/index.js";
import { ignoreNotFound, requireId } from "../idempotent.js";
import { createdProjects, projectIdOf, projects } from "../project/index.js";

/** The operations on role assignments of groups (federated clouds, and `assignTo: group` in brokered ones). */
export type GroupGrantOperation =
  | { kind: "grantGroup"; group: string; project: ProjectRef; role: string; policies: string[] }
  | {
      kind: "revokeGroup";
      group: string;
      groupId: string;
      projectId: string;
      /** `<domain>/<name>` as a person reads it (the id when the project is not known): display only. */
      project: string;
      roleId: string;
      role: string;
      policies: string[];
    };

/** Role assignments of owned groups on projects, and the cloud's roles by name. */
export interface GroupGrantsObserved {
  list: { groupId: string; projectId: string; roleId: string }[];
  roles: Map<string, string>;
}

/**
 * Project roles of Archway's groups, granted as policies say and revoked when none does; only owned groups'
 * assignments are read. Federated clouds: one group per project role. Brokered clouds: the groups of
 * `assignTo: group` grants (one per team), see {@link planGroupGrants} for what is revoked there.
 */
export const groupGrants: SyncResource<GroupGrantOperation, GroupGrantsObserved> = {
  name: "group-grant",
  observe: observeGroupGrants,
  plan: planGroupGrants,
  steps: {
    grantGroup: {
      phase: "links",
      action: () => "create",
      describe: (op) => `grant ${op.role} on ${projectLabel(op.project)} to group ${op.group}`,
      async apply(ctx, op) {
        await ctx.clients.keystone.grantProjectRole(
          { groupId: groupIdOf(ctx, op.group) },
          projectIdOf(ctx, op.project),
          requireId(ctx.observed(groupGrants).roles, op.role, "role"),
        );
      },
    },
    revokeGroup: {
      phase: "unlinks",
      action: () => "revoke",
      describe: (op) => `revoke ${op.role} on ${op.project} from group ${op.group}`,
      async apply(ctx, op) {
        await ignoreNotFound(() =>
          ctx.clients.keystone.revokeProjectRole({ groupId: op.groupId }, op.projectId, op.roleId),
        );
      },
    },
  },
};

async function observeGroupGrants(ctx: ObserveContext): Promise<GroupGrantsObserved> {
  const roles = await ctx.reads.roles();
  const out: GroupGrantsObserved = { list: [], roles };
  if (!(await ctx.slice(domains)).id) return out;
  const observedGroups = await ctx.slice(groups);
  if (ctx.opts.people) {
    // A just-in-time run reads only the groups its people's grants name (a few): it grants, never revokes.
    if (ctx.input.federation) return out;
    const named = new Set((ctx.input.desired.groupGrants ?? []).map((g) => g.group));
    const ids = new Set([...named].flatMap((name) => observedGroups.get(name)?.id ?? []));
    const ks = ctx.clients.keystone;
    const found = await mapLimit([...ids], ctx.clients.limiter.max, (groupId) => ks.listRoleAssignments({ groupId }));
    for (const a of found.flat()) {
      const groupId = a.group?.id;
      const projectId = a.scope?.project?.id;
      if (groupId && projectId && ids.has(groupId)) out.list.push({ groupId, projectId, roleId: a.role.id });
    }
    return out;
  }
  const owned = new Set([...observedGroups.values()].map((g) => g.id));
  if (owned.size === 0) return out;
  for (const a of await ctx.reads.roleAssignments()) {
    const groupId = a.group?.id;
    const projectId = a.scope?.project?.id;
    if (groupId && projectId && owned.has(groupId)) out.list.push({ groupId, projectId, roleId: a.role.id });
  }
  return out;
}

/**
 * See {@link groupGrants}. A grant on a project that neither exists nor is created waits for a later run.
 * Revoked, among owned groups' assignments: in a federated cloud every one no policy gives; in a brokered cloud
 * those of groups that hold roles by policy (`assignTo: group`) and of groups no policy names any more. A group
 * policies only put people in (`groups:`) keeps the roles an operator gave it by hand. A just-in-time run (its
 * people's grants only) revokes nothing.
 */
export function planGroupGrants(ctx: PlanContext): Planned<GroupGrantOperation> {
  const desired = ctx.input.federation?.groups ?? brokeredGroupGrants(ctx.input.desired.groupGrants ?? []);
  const managed = revocable(ctx, desired);
  const operations: GroupGrantOperation[] = [];
  const problems: string[] = [];
  const observed = ctx.observed(groupGrants);
  const observedGroups = ctx.observed(groups);
  const observedProjects = ctx.observed(projects);
  const created = createdProjects(ctx);
  const keep = new Set<string>();
  const have = new Set(observed.list.map((a) => tupleKey(a.groupId, a.projectId, a.roleId)));
  const unknownRoles = new Set<string>();
  for (const [name, grants] of desired) {
    const group = observedGroups.get(name);
    // Not this deployment's group: the group planner reports the clash; its grants are not made.
    if (!group && observedGroups.foreign?.has(name)) continue;
    for (const g of grants) {
      const roleId = observed.roles.get(g.role);
      if (!roleId) {
        unknownRoles.add(g.role);
        continue;
      }
      if (!observedProjects.has(g.project) && !created.has(g.project)) continue;
      const projectId = observedProjects.get(g.project)?.id;
      if (group && projectId) {
        const id = tupleKey(group.id, projectId, roleId);
        keep.add(id);
        if (have.has(id)) continue;
      }
      operations.push({ kind: "grantGroup", group: name, project: g.project, role: g.role, policies: g.policies });
    }
  }
  for (const role of unknownRoles) problems.push(`role ${role} does not exist in this cloud`);
  const groupNames = new Map([...observedGroups].map(([name, g]) => [g.id, name]));
  const projectLabels = labelsById(observedProjects);
  const roleNames = new Map([...observed.roles].map(([name, id]) => [id, name]));
  for (const a of observed.list) {
    if (keep.has(tupleKey(a.groupId, a.projectId, a.roleId)) || !managed(a.groupId)) continue;
    operations.push({
      kind: "revokeGroup",
      group: groupNames.get(a.groupId) ?? a.groupId,
      groupId: a.groupId,
      projectId: a.projectId,
      project: projectLabels.get(a.projectId) ?? a.projectId,
      roleId: a.roleId,
      role: roleNames.get(a.roleId) ?? a.roleId,
      policies: [],
    });
  }
  return { operations, problems };
}

type DesiredGroups = Map<string, { project: ProjectRef; role: string; policies: string[] }[]>;

/** A brokered cloud's group grants in the shape federated clouds use: group name -> project roles. */
function brokeredGroupGrants(list: readonly DesiredGroupGrant[]): DesiredGroups {
  const out: DesiredGroups = new Map();
  for (const g of list) {
    const grants = out.get(g.group) ?? [];
    grants.push({ project: { domain: g.projectDomain, name: g.project }, role: g.role, policies: g.policies });
    out.set(g.group, grants);
  }
  return out;
}

/** Which owned groups' unwanted assignments may be revoked (see {@link planGroupGrants}), by group id. */
function revocable(ctx: PlanContext, desired: DesiredGroups): (groupId: string) => boolean {
  if (ctx.opts.people) return () => false;
  if (ctx.input.federation) return () => true;
  const observedGroups = ctx.observed(groups);
  const named = new Set(ctx.input.desired.memberships.map((m) => m.group));
  const ids = new Set<string>();
  for (const [name, group] of observedGroups) if (desired.has(name) || !named.has(name)) ids.add(group.id);
  return (groupId) => ids.has(groupId);
}
