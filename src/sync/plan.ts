import type { Cloud } from "../config/index.js";
import type { DesiredCloudState, DesiredUser } from "../policy/index.js";
import { type ObservedCloud, projectKey } from "./observe.js";
import { type Action, actionOf, isDestructive, type Operation, type UserChanges } from "./operations.js";
import { type Ownership, projectMarks } from "./ownership.js";
import { planKeys } from "./plan-keys.js";

/** Everything that must change in one cloud, in apply order, and what cannot be done (and why). */
export interface CloudPlan {
  cloudId: string;
  operations: Operation[];
  /** Conflicts with objects Archway does not own, unknown roles, missing projects: reported, never forced. */
  problems: string[];
  counts: Record<Action, number>;
  /** Operations that take something away (they count against `maxDeletesPerRun`). */
  destructive: number;
  /**
   * Projects this deployment created that no policy asks for any more (`<domain>/<name>`), sorted. Reported, never
   * deleted: a project may hold servers and volumes; deleting it is a person's decision.
   */
  orphans: string[];
}

/** Knobs of planning. */
export interface PlanOptions {
  keyVersion: number;
  /** How long a user stays disabled before it is deleted. */
  graceMs: number;
  now: Date;
  /** Restrict to these people (just-in-time sync): nobody else is disabled, revoked or touched. */
  people?: ReadonlySet<string>;
  /** Whose marks to write and honour. */
  ownership: Ownership;
}

/**
 * Diffs desired against observed state for one cloud. Pure: no I/O, so `sync plan` and tests can run it freely.
 * Only owned objects are ever updated, revoked, disabled or deleted.
 */
export function planCloud(
  cloud: Cloud,
  desired: DesiredCloudState,
  observed: ObservedCloud,
  opts: PlanOptions,
): CloudPlan {
  const ops: Operation[] = [];
  const problems: string[] = [];
  const inScope = (identityId: string) => !opts.people || opts.people.has(identityId);
  const policiesOf = policyIndex(desired);

  if (!observed.domainId) ops.push({ kind: "ensureDomain", name: cloud.domain, policies: [] });

  // Projects: create what policies create, update what Archway owns, never touch the rest.
  const projectsReady = new Set<string>();
  for (const p of desired.projects) {
    const key = projectKey(p.domain, p.name);
    const seen = observed.projects.get(key);
    const tags = [...new Set([...p.tags, ...projectMarks(opts.ownership)])].sort();
    const description = p.description ?? "";
    if (!seen) {
      if (!p.create) problems.push(`project ${key} does not exist and no policy creates it (${p.policies.join(", ")})`);
      else if (!observed.domains.has(p.domain) && p.domain !== cloud.domain)
        problems.push(`project ${key}: domain ${p.domain} does not exist`);
      else {
        ops.push({
          kind: "createProject",
          key,
          name: p.name,
          domain: p.domain,
          description,
          tags,
          policies: p.policies,
        });
        projectsReady.add(key);
      }
      continue;
    }
    projectsReady.add(key);
    if (!seen.owned) {
      if (p.create) problems.push(`project ${key} exists ${seen.whose ?? ""}: granting on it, not changing it`);
      continue;
    }
    const tagsDiffer = [...seen.tags].sort().join(",") !== tags.join(",");
    if (tagsDiffer || seen.description !== description) {
      ops.push({
        kind: "updateProject",
        key,
        projectId: seen.id,
        ...(seen.description !== description ? { description } : {}),
        ...(tagsDiffer ? { tags } : {}),
        policies: p.policies,
      });
    }
  }

  // Adopted projects no policy names: this deployment's mark too (desired ones get it through their tags above).
  const desiredKeys = new Set(desired.projects.map((p) => projectKey(p.domain, p.name)));
  for (const [key, seen] of observed.projects) {
    if (!seen.remark || desiredKeys.has(key)) continue;
    const tags = [...new Set([...seen.tags, ...projectMarks(opts.ownership)])].sort();
    ops.push({ kind: "updateProject", key, projectId: seen.id, tags, policies: [] });
  }

  // Users: create, update (rename, contact, re-enable, password rotation, options).
  const usable = new Map<string, DesiredUser>();
  for (const u of desired.users) {
    if (!inScope(u.identityId)) continue;
    const seen = observed.users.get(u.identityId);
    const policies = policiesOf.get(u.identityId) ?? [];
    if (!seen) {
      const foreign = observed.foreignUserNames.get(u.username);
      if (foreign !== undefined) {
        problems.push(`user ${u.username} exists in domain ${cloud.domain} ${foreign}: not adopted`);
        continue;
      }
      ops.push({
        kind: "createUser",
        identityId: u.identityId,
        username: u.username,
        email: u.email,
        displayName: u.displayName,
        policies,
      });
      usable.set(u.identityId, u);
      continue;
    }
    usable.set(u.identityId, u);
    const changes: UserChanges = {};
    if (seen.name !== u.username) changes.name = u.username;
    if ((seen.email ?? "") !== (u.email ?? "")) changes.email = u.email ?? "";
    if ((seen.description ?? "") !== (u.displayName ?? "")) changes.description = u.displayName ?? "";
    if (!seen.enabled) changes.enable = true;
    if (seen.keyVersion !== opts.keyVersion) changes.password = { from: seen.keyVersion, to: opts.keyVersion };
    if (!seen.optionsOk) changes.options = true;
    if (seen.remark) changes.mark = true;
    if (Object.keys(changes).length > 0) {
      ops.push({
        kind: "updateUser",
        identityId: u.identityId,
        userId: seen.id,
        username: u.username,
        changes,
        policies,
      });
    }
  }

  // Owned users nobody asks for any more: disable now, delete after the grace period.
  const desiredIds = new Set(desired.users.map((u) => u.identityId));
  for (const seen of observed.users.values()) {
    if (desiredIds.has(seen.identityId) || !inScope(seen.identityId)) continue;
    const base = { identityId: seen.identityId, userId: seen.id, username: seen.name, policies: [] };
    if (seen.enabled || !seen.disabledAt) ops.push({ kind: "disableUser", ...base });
    else if (opts.now.getTime() - Date.parse(seen.disabledAt) >= opts.graceMs) {
      ops.push({ kind: "deleteUser", ...base, keyNames: Object.keys(seen.keys).sort() });
    }
  }

  planAssignments(desired, observed, usable, projectsReady, inScope, ops, problems);
  planGroups(desired, observed, usable, inScope, ops, problems);
  planKeys(desired, observed, usable, ops, problems);

  return finishPlan(cloud.id, ops, problems, orphansOf(desired, observed));
}

/** This deployment's projects that no desired project names (see {@link CloudPlan.orphans}). */
export function orphansOf(desired: DesiredCloudState, observed: ObservedCloud): string[] {
  const wanted = new Set(desired.projects.map((p) => projectKey(p.domain, p.name)));
  return [...observed.projects]
    .filter(([key, p]) => p.owned && !wanted.has(key))
    .map(([key]) => key)
    .sort();
}

/** A plan from its operations: counts per verb and the number of destructive operations. */
export function finishPlan(cloudId: string, ops: Operation[], problems: string[], orphans: string[] = []): CloudPlan {
  const counts: Record<Action, number> = { create: 0, update: 0, revoke: 0, disable: 0, delete: 0 };
  for (const op of ops) counts[actionOf(op)]++;
  return { cloudId, operations: ops, problems, counts, destructive: ops.filter(isDestructive).length, orphans };
}

function planAssignments(
  desired: DesiredCloudState,
  observed: ObservedCloud,
  usable: Map<string, DesiredUser>,
  projectsReady: Set<string>,
  inScope: (id: string) => boolean,
  ops: Operation[],
  problems: string[],
) {
  const have = new Set(observed.assignments.map((a) => `${a.userId}|${a.projectId}|${a.roleId}`));
  const keep = new Set<string>();
  const unknownRoles = new Set<string>();
  for (const a of desired.assignments) {
    const user = usable.get(a.identityId);
    const key = projectKey(a.projectDomain, a.project);
    if (!user || !projectsReady.has(key)) continue;
    const roleId = observed.roles.get(a.role);
    if (!roleId) {
      unknownRoles.add(a.role);
      continue;
    }
    const userId = observed.users.get(a.identityId)?.id;
    const projectId = observed.projects.get(key)?.id;
    if (userId && projectId) {
      const id = `${userId}|${projectId}|${roleId}`;
      keep.add(id);
      if (have.has(id)) continue;
    }
    ops.push({
      kind: "grant",
      identityId: a.identityId,
      username: user.username,
      project: key,
      role: a.role,
      policies: a.policies,
    });
  }
  for (const role of unknownRoles) problems.push(`role ${role} does not exist in this cloud`);
  const byUserId = new Map([...observed.users.values()].map((u) => [u.id, u]));
  const projectNames = new Map([...observed.projects].map(([key, p]) => [p.id, key]));
  const roleNames = new Map([...observed.roles].map(([name, id]) => [id, name]));
  for (const a of observed.assignments) {
    const user = byUserId.get(a.userId);
    if (!user || !inScope(user.identityId) || keep.has(`${a.userId}|${a.projectId}|${a.roleId}`)) continue;
    ops.push({
      kind: "revoke",
      identityId: user.identityId,
      userId: a.userId,
      username: user.name,
      projectId: a.projectId,
      project: projectNames.get(a.projectId) ?? a.projectId,
      roleId: a.roleId,
      role: roleNames.get(a.roleId) ?? a.roleId,
      policies: [],
    });
  }
}

function planGroups(
  desired: DesiredCloudState,
  observed: ObservedCloud,
  usable: Map<string, DesiredUser>,
  inScope: (id: string) => boolean,
  ops: Operation[],
  problems: string[],
) {
  const wanted = new Set<string>();
  const clashes = new Set<string>();
  for (const m of desired.memberships) {
    const user = usable.get(m.identityId);
    if (!user) continue;
    const foreign = observed.foreignGroupNames.get(m.group);
    if (foreign !== undefined && !observed.groups.has(m.group)) {
      if (!clashes.has(m.group)) problems.push(`group ${m.group} exists ${foreign}: not adopted`);
      clashes.add(m.group);
      continue;
    }
    if (!observed.groups.has(m.group) && !wanted.has(m.group))
      ops.push({ kind: "createGroup", name: m.group, policies: m.policies });
    const userId = observed.users.get(m.identityId)?.id;
    wanted.add(m.group);
    const group = observed.groups.get(m.group);
    if (userId) wanted.add(`${m.group}|${userId}`);
    if (!group || !userId || !group.members.has(userId)) {
      ops.push({
        kind: "addMember",
        group: m.group,
        identityId: m.identityId,
        username: user.username,
        policies: m.policies,
      });
    }
  }
  // Adopted groups with the old mark get this deployment's, wanted or not (so adoption can be switched off).
  for (const [name, group] of observed.groups)
    if (group.remark) ops.push({ kind: "markGroup", name, groupId: group.id, policies: [] });
  const byUserId = new Map([...observed.users.values()].map((u) => [u.id, u]));
  for (const [name, group] of observed.groups) {
    for (const userId of group.members) {
      const user = byUserId.get(userId);
      // Only Archway's own users leave Archway's groups; a person added by hand stays.
      if (!user || !inScope(user.identityId) || wanted.has(`${name}|${userId}`)) continue;
      ops.push({ kind: "removeMember", group: name, groupId: group.id, userId, username: user.name, policies: [] });
    }
  }
}

/** Identity id -> every policy that gives the person something in this cloud. */
function policyIndex(desired: DesiredCloudState): Map<string, string[]> {
  const acc = new Map<string, Set<string>>();
  const add = (id: string, policies: string[]) => {
    let set = acc.get(id);
    if (!set) {
      set = new Set();
      acc.set(id, set);
    }
    for (const p of policies) set.add(p);
  };
  for (const a of desired.assignments) add(a.identityId, a.policies);
  for (const k of desired.keys) add(k.identityId, k.policies);
  for (const m of desired.memberships) add(m.identityId, m.policies);
  return new Map([...acc].map(([id, set]) => [id, [...set].sort()]));
}
