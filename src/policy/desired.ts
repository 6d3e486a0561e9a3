import type { Identity } from "../identity/index.js";
import { compareProjects } from "./access.js";
import type { CompiledPolicySet } from "./compile.js";
import { tupleKey } from "./entries.js";
import {
  type CloudAccess,
  type DesiredAssignment,
  type DesiredKey,
  type DesiredMembership,
  type DesiredProject,
  evaluate,
  WITH_MFA,
} from "./evaluate.js";
import type { CompiledManifest } from "./manifests/index.js";
import { mergeQuotas } from "./quotas.js";
import { sortedUnion } from "./value-set.js";

/** A person who should have a (shadow) user in a cloud. */
export interface DesiredUser {
  identityId: string;
  username: string;
  email?: string;
  displayName?: string;
  /** Keystone groups the user should be in. */
  groups: string[];
}

/** A role a Keystone group of the cloud's Archway domain should hold on a project (`assignTo: group`). */
export interface DesiredGroupGrant {
  group: string;
  project: string;
  projectDomain: string;
  role: string;
  /** Policies that asked for it, sorted (over every member). */
  policies: string[];
}

/** Everything that should exist in one cloud. */
export interface DesiredCloudState {
  cloudId: string;
  users: DesiredUser[];
  projects: DesiredProject[];
  /** Roles of people's own users (in federated clouds also those held through groups: see federation). */
  assignments: DesiredAssignment[];
  keys: DesiredKey[];
  memberships: DesiredMembership[];
  /**
   * Roles of Archway's groups in a brokered cloud, one entry per group, project and role whatever the number of
   * members, sorted by group, domain, project, role. Absent when there are none.
   */
  groupGrants?: DesiredGroupGrant[];
  /** The manifests that target this cloud (flavors, baselines...: read them with `manifestsOf`). */
  manifests?: readonly CompiledManifest[];
}

/**
 * Identities x policies x clouds -> per cloud the users, projects, role assignments and keys that should exist.
 * Each person is evaluated once against only the candidate policies of their groups, and only the clouds they get
 * something in are touched: the cost grows with the matches, not with people x clouds x policies.
 */
export function desiredState(identities: Iterable<Identity>, set: CompiledPolicySet): Map<string, DesiredCloudState> {
  // People in id order: each person's grants come out sorted, so the per-cloud lists need no final sort.
  const people = [...identities].sort((a, b) => cmp(a.id, b.id));
  const states = new Map<string, DesiredCloudState & { projectIndex: ProjectIndex }>();
  // Brokered clouds give roles held through a group to the group, once; federated ones grant through groups of
  // their own (one per project role), so there such a role stays the person's assignment.
  const federated = new Set(set.ordered.filter((c) => c.mode === "federated").map((c) => c.id));
  const groupGrants = new Map<string, Map<string, DesiredGroupGrant>>();
  const stateOf = (cloudId: string) => {
    let state = states.get(cloudId);
    if (!state) {
      state = {
        cloudId,
        users: [],
        projects: [],
        assignments: [],
        keys: [],
        memberships: [],
        projectIndex: { domain: undefined, byName: new Map(), byDomain: new Map() },
      };
      states.set(cloudId, state);
    }
    return state;
  };
  for (const identity of people) {
    // Clouds that share one evaluation result share one user record too; such clouds are mostly neighbours in
    // cloud order, so the previous one's is checked before the Map.
    const users = new Map<CloudAccess, DesiredUser | null>();
    let lastAccess: CloudAccess | undefined;
    let lastUser: DesiredUser | null = null;
    // Sync provisions what a session with a second factor may use; tokens withhold the MFA-only part per session.
    evaluate(identity, set, WITH_MFA).forEach((access, cloudId) => {
      const state = stateOf(cloudId);
      let user = access === lastAccess ? lastUser : users.get(access);
      if (user === undefined) {
        user =
          access.assignments.length + access.keys.length + access.memberships.length > 0
            ? {
                identityId: identity.id,
                username: identity.username,
                email: identity.email,
                displayName: identity.displayName,
                groups: access.memberships.map((m) => m.group),
              }
            : null;
        users.set(access, user);
      }
      lastAccess = access;
      lastUser = user;
      if (user) state.users.push(user);
      for (const p of access.projects) mergeProject(state.projectIndex, p);
      for (const x of access.assignments) {
        if (x.group === undefined || federated.has(cloudId)) state.assignments.push(x);
        else addGroupGrant(groupGrants, cloudId, x, x.group);
      }
      for (const x of access.keys) state.keys.push(x);
      for (const x of access.memberships) state.memberships.push(x);
    });
  }
  // A manifest's cloud holds its objects even when no policy gives anybody anything there.
  const manifests = new Map<string, CompiledManifest[]>();
  for (const m of set.manifests) {
    for (const cloudId of m.clouds) {
      stateOf(cloudId);
      const list = manifests.get(cloudId) ?? [];
      list.push(m);
      manifests.set(cloudId, list);
    }
  }
  const out = new Map<string, DesiredCloudState>();
  for (const cloudId of [...states.keys()].sort()) {
    const { projectIndex, ...state } = states.get(cloudId)!;
    for (const byName of projectIndex.byDomain.values()) for (const p of byName.values()) state.projects.push(p);
    state.projects.sort(compareProjects);
    const grants = groupGrants.get(cloudId);
    if (grants) state.groupGrants = [...grants.values()].sort(compareGroupGrants);
    const own = manifests.get(cloudId);
    if (own) state.manifests = own;
    out.set(cloudId, state);
  }
  return out;
}

/**
 * A cloud's projects by domain, then name: no key string to build, and no two (domain, name) pairs can collide.
 * The first domain's names are kept at hand too, as most clouds have one domain: one Map lookup per merge, not two.
 */
interface ProjectIndex {
  domain: string | undefined;
  byName: Map<string, DesiredProject>;
  byDomain: Map<string, Map<string, DesiredProject>>;
}

function mergeProject(index: ProjectIndex, p: DesiredProject): void {
  let byName = p.domain === index.domain ? index.byName : index.byDomain.get(p.domain);
  if (!byName) {
    byName = new Map();
    index.byDomain.set(p.domain, byName);
    if (index.domain === undefined) {
      index.domain = p.domain;
      index.byName = byName;
    }
  }
  const existing = byName.get(p.name);
  if (!existing) {
    // Own lists: the merged project grows, and the person's result is shared and read-only.
    const own: DesiredProject = {
      name: p.name,
      domain: p.domain,
      tags: [...p.tags],
      create: p.create,
      policies: [...p.policies],
    };
    if (p.description !== undefined) own.description = p.description;
    if (p.quotas) own.quotas = p.quotas; // frozen and shared, never copied
    byName.set(p.name, own);
    return;
  }
  existing.create ||= p.create;
  existing.tags = sortedUnion(existing.tags, p.tags);
  existing.policies = sortedUnion(existing.policies, p.policies);
  // The larger limit of each resource: the same whatever order people come in.
  if (p.quotas) existing.quotas = mergeQuotas(existing.quotas, p.quotas);
  // Two people may render different descriptions for one shared project: keep the smallest, so the result
  // does not depend on the order people are enumerated in.
  if (p.description !== undefined && (existing.description === undefined || p.description < existing.description)) {
    existing.description = p.description;
  }
}

/** Merges one member's group-held role into its cloud's group grants (one per group, project and role). */
function addGroupGrant(
  byCloud: Map<string, Map<string, DesiredGroupGrant>>,
  cloudId: string,
  x: DesiredAssignment,
  group: string,
): void {
  let grants = byCloud.get(cloudId);
  if (!grants) {
    grants = new Map();
    byCloud.set(cloudId, grants);
  }
  const key = tupleKey(group, x.projectDomain, tupleKey(x.project, x.role, ""));
  const found = grants.get(key);
  if (found) found.policies = sortedUnion(found.policies, x.policies);
  else
    grants.set(key, {
      group,
      project: x.project,
      projectDomain: x.projectDomain,
      role: x.role,
      policies: [...x.policies],
    });
}

function compareGroupGrants(x: DesiredGroupGrant, y: DesiredGroupGrant): number {
  return (
    cmp(x.group, y.group) || cmp(x.projectDomain, y.projectDomain) || cmp(x.project, y.project) || cmp(x.role, y.role)
  );
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
