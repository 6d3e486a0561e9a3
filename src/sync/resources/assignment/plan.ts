import { type ProjectMap, projectLabel, tupleKey } from "../../project-ref.js";
import type { PlanContext, Planned } from "../../resource.js";
import { projects, readyProjects } from "../project/index.js";
import { usableUsers, users } from "../user/index.js";
import { type AssignmentOperation, assignments } from "./index.js";

/**
 * Grants what policies give usable users on ready projects (a role missing in the cloud is a problem), and revokes
 * assignments of Archway's own users that no policy gives any more. Assignments of users Archway does not own are
 * never read, so never revoked; in a just-in-time run only its people's are.
 */
export function planAssignments(ctx: PlanContext): Planned<AssignmentOperation> {
  const operations: AssignmentOperation[] = [];
  const problems: string[] = [];
  const observed = ctx.observed(assignments);
  const observedUsers = ctx.observed(users).byIdentity;
  const observedProjects = ctx.observed(projects);
  const usable = usableUsers(ctx);
  const ready = readyProjects(ctx);
  const have = new Set(observed.list.map((a) => tupleKey(a.userId, a.projectId, a.roleId)));
  const keep = new Set<string>();
  const unknownRoles = new Set<string>();
  for (const a of ctx.input.desired.assignments) {
    const user = usable.get(a.identityId);
    const project = { domain: a.projectDomain, name: a.project };
    if (!user || !ready.has(project)) continue;
    const roleId = observed.roles.get(a.role);
    if (!roleId) {
      unknownRoles.add(a.role);
      continue;
    }
    const userId = observedUsers.get(a.identityId)?.id;
    const projectId = observedProjects.get(project)?.id;
    if (userId && projectId) {
      const id = tupleKey(userId, projectId, roleId);
      keep.add(id);
      if (have.has(id)) continue;
    }
    operations.push({
      kind: "grant",
      identityId: a.identityId,
      username: user.username,
      project,
      role: a.role,
      policies: a.policies,
    });
  }
  for (const role of unknownRoles) problems.push(`role ${role} does not exist in this cloud`);
  const byUserId = new Map([...observedUsers.values()].map((u) => [u.id, u]));
  const projectLabels = labelsById(observedProjects);
  const roleNames = new Map([...observed.roles].map(([name, id]) => [id, name]));
  for (const a of observed.list) {
    const user = byUserId.get(a.userId);
    if (!user || !ctx.inScope(user.identityId) || keep.has(tupleKey(a.userId, a.projectId, a.roleId))) continue;
    operations.push({
      kind: "revoke",
      identityId: user.identityId,
      userId: a.userId,
      username: user.name,
      projectId: a.projectId,
      project: projectLabels.get(a.projectId) ?? a.projectId,
      roleId: a.roleId,
      role: roleNames.get(a.roleId) ?? a.roleId,
      policies: [],
    });
  }
  return { operations, problems };
}

/** Project id -> `<domain>/<name>` for people to read. */
export function labelsById(observed: ProjectMap<{ id: string }>): Map<string, string> {
  return new Map([...observed.entries()].map(([ref, p]) => [p.id, projectLabel(ref)]));
}
