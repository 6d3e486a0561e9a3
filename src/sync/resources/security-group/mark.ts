import type { Ownership } from "../../ownership.js";
import { projectMarks } from "../../ownership.js";

/**
 * How Archway marks the Neutron security groups it creates. The description ends with
 * `[archway:<deploymentId>:<baseline>]` (after the baseline's own description, if any): that mark is ownership.
 * The group also carries the tags every Archway project carries (`archway:managed`, `archway:dep:<deploymentId>`), so
 * one list call filtered by tag server-side finds this deployment's groups; a tag without the description mark
 * owns nothing.
 */
const MARK = /\[archway:([a-z0-9][a-z0-9-]{0,31}):([a-z0-9][a-z0-9.-]{0,62})\]$/;

/** Whose a group is: this deployment's (and which baseline made it), another deployment's, or nobody's. */
export type GroupMark =
  | { owner: "self"; baseline: string }
  | { owner: "other"; deploymentId: string }
  | { owner: "none" };

/** The description of a group Archway creates: the baseline's description, then the mark. */
export function groupDescription(description: string | undefined, baseline: string, ownership: Ownership): string {
  const mark = `[archway:${ownership.deploymentId}:${baseline}]`;
  return description ? `${description} ${mark}` : mark;
}

/** Reads the mark at the end of a group's description. */
export function groupMark(description: string, ownership: Ownership): GroupMark {
  const m = MARK.exec(description);
  if (!m?.[1] || !m[2]) return { owner: "none" };
  return m[1] === ownership.deploymentId ? { owner: "self", baseline: m[2] } : { owner: "other", deploymentId: m[1] };
}

/** The tags a group Archway creates carries (the index the observe step filters on), sorted. */
export function groupTags(ownership: Ownership): string[] {
  return projectMarks(ownership).sort();
}
