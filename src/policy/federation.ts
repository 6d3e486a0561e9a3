import { createHash } from "node:crypto";
import type { CloudAccess, DesiredAssignment } from "./evaluate.js";

/** Keystone's limit on group names. */
const GROUP_NAME_MAX = 64;

/**
 * The Keystone group that carries one role on one project in a federated cloud. Readable when it fits
 * (`<project>:<role>`, or `<domain>/<project>:<role>` outside Archway's domain); a stable hash otherwise. Never
 * contains `;`, which mod_auth_openidc uses to join a claim's values.
 */
export function federationGroupName(
  assignment: Pick<DesiredAssignment, "project" | "projectDomain" | "role">,
  archwayDomain: string,
): string {
  const project =
    assignment.projectDomain === archwayDomain
      ? assignment.project
      : `${assignment.projectDomain}/${assignment.project}`;
  const readable = `${project}:${assignment.role}`;
  if (readable.length <= GROUP_NAME_MAX && !readable.includes(";")) return readable;
  const digest = createHash("sha256")
    .update(`${assignment.projectDomain}\0${assignment.project}\0${assignment.role}`)
    .digest("hex");
  return `archway-${digest.slice(0, 32)}`;
}

/**
 * The `groups` claim of a person's access token for a federated cloud: one group per project role the policies
 * give them there, sorted. Keystone's mapping turns each into membership of the group of that name, and the group's
 * role assignment does the rest.
 */
export function federationGroups(access: CloudAccess | undefined, archwayDomain: string): string[] {
  if (!access) return [];
  return [...new Set(access.assignments.map((a) => federationGroupName(a, archwayDomain)))].sort();
}
