import { mapLimit } from "../../../openstack/index.js";
import { type ProjectRef, projectLabel } from "../../project-ref.js";
import type { ObserveContext, SyncResource } from "../../resource.js";
import { domains } from "../domain/index.js";
import { ignoreNotFound, requireId } from "../idempotent.js";
import { projectIdOf } from "../project/index.js";
import { userIdOf, users } from "../user/index.js";
import { planAssignments } from "./plan.js";

/** Gives a shadow user a role on a project. */
export interface Grant {
  kind: "grant";
  identityId: string;
  username: string;
  project: ProjectRef;
  role: string;
  policies: string[];
}

/** Takes a role on a project from an owned shadow user (only assignments of Archway's own users are ever read). */
export interface Revoke {
  kind: "revoke";
  identityId: string;
  userId: string;
  username: string;
  projectId: string;
  /** `<domain>/<name>` as a person reads it (the id when the project is not known): display only. */
  project: string;
  roleId: string;
  role: string;
  policies: string[];
}

/** The operations on role assignments of users. */
export type AssignmentOperation = Grant | Revoke;

/** A role assignment of an owned user on a project. */
export interface ObservedAssignment {
  userId: string;
  projectId: string;
  roleId: string;
}

/** Role assignments of owned users, and the cloud's roles by name. */
export interface AssignmentsObserved {
  list: ObservedAssignment[];
  roles: Map<string, string>;
}

/** Role assignments of shadow users on projects: granted as policies say, revoked when no policy says so. */
export const assignments: SyncResource<AssignmentOperation, AssignmentsObserved> = {
  name: "assignment",
  observe: observeAssignments,
  plan: planAssignments,
  steps: {
    grant: {
      phase: "links",
      action: () => "create",
      describe: (op) => `grant ${op.role} on ${projectLabel(op.project)} to ${op.username}`,
      async apply(ctx, op) {
        await ctx.clients.keystone.grantProjectRole(
          { userId: userIdOf(ctx, op.identityId) },
          projectIdOf(ctx, op.project),
          requireId(ctx.observed(assignments).roles, op.role, "role"),
        );
      },
    },
    revoke: {
      phase: "unlinks",
      action: () => "revoke",
      describe: (op) => `revoke ${op.role} on ${op.project} from ${op.username}`,
      async apply(ctx, op) {
        await ignoreNotFound(() =>
          ctx.clients.keystone.revokeProjectRole({ userId: op.userId }, op.projectId, op.roleId),
        );
      },
    },
  },
};

async function observeAssignments(ctx: ObserveContext): Promise<AssignmentsObserved> {
  const [roles, observedUsers] = await Promise.all([ctx.reads.roles(), ctx.slice(users)]);
  const out: AssignmentsObserved = { list: [], roles };
  if (!(await ctx.slice(domains)).id) return out;
  const ownedIds = new Set([...observedUsers.byIdentity.values()].map((u) => u.id));
  const ks = ctx.clients.keystone;
  const all = ctx.opts.people
    ? (await mapLimit([...ownedIds], ctx.clients.limiter.max, (userId) => ks.listRoleAssignments({ userId }))).flat()
    : await ctx.reads.roleAssignments();
  for (const a of all) {
    const userId = a.user?.id;
    const projectId = a.scope?.project?.id;
    if (userId && projectId && ownedIds.has(userId)) out.list.push({ userId, projectId, roleId: a.role.id });
  }
  return out;
}
