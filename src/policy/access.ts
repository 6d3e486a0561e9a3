import type { Cloud } from "../config/index.js";
import type { Identity } from "../identity/index.js";
import type { CompiledPolicy } from "./compile.js";
import {
  type Entries,
  type EntryKind,
  findEntry,
  removeEntries,
  sortedEntries,
  tupleKey,
  withEntry,
} from "./entries.js";
import type { CloudAccess, DesiredAssignment, DesiredKey, DesiredMembership, DesiredProject } from "./evaluate.js";
import { comparePair, compareStrings, compareTriple, sortInPlace } from "./order.js";
import { mergeQuotas } from "./quotas.js";
import { keystoneName, type Template } from "./template.js";
import { sortedUnion } from "./value-set.js";

/** The order of projects in every result: by domain, then name (see order.ts). */
export function compareProjects(x: DesiredProject, y: DesiredProject): number {
  return comparePair(x.domain, x.name, y.domain, y.name);
}

/** Every empty list of every result: most results lack most kinds, and results are read-only anyway. */
const NONE: never[] = Object.freeze([]) as never[];

// How each kind of entry is identified and ordered (see order.ts for why the order is that of joined fields).
const PROJECT: EntryKind<DesiredProject> = {
  is: (p, domain, name) => p.name === name && p.domain === domain,
  key: (p) => tupleKey(p.domain, p.name, ""),
  compare: compareProjects,
};
const ASSIGNMENT: EntryKind<DesiredAssignment> = {
  is: (x, domain, project, role) => x.role === role && x.project === project && x.projectDomain === domain,
  key: (x) => tupleKey(x.projectDomain, x.project, x.role),
  compare: (x, y) => compareTriple(x.projectDomain, x.project, x.role, y.projectDomain, y.project, y.role),
};
/** Assignments direct and through groups together: a role held both ways is two entries, the direct one first. */
const compareAssignments = (x: DesiredAssignment, y: DesiredAssignment): number =>
  ASSIGNMENT.compare(x, y) || compareStrings(x.group ?? "", y.group ?? "");
const MEMBERSHIP: EntryKind<DesiredMembership> = {
  is: (m, domain, group) => m.group === group && m.domain === domain,
  key: (m) => tupleKey(m.domain, m.group, ""),
  compare: (x, y) => comparePair(x.domain, x.group, y.domain, y.group),
};
const KEY: EntryKind<DesiredKey> = {
  is: (k, publicKey) => k.publicKey === publicKey,
  key: (k) => tupleKey(k.publicKey, "", ""),
  compare: (x, y) => compareStrings(x.publicKey, y.publicKey),
};

/**
 * What one person gets in one cloud while the policies are applied. The entries are the final objects, so
 * finishing only sorts them; each list is created on first use because most grants fill one or two of them.
 * Allows are applied in name order, so every `policies` list grows sorted and a repeat can only be its last entry.
 */
interface Accumulator {
  identityId: string;
  projects: Entries<DesiredProject> | undefined;
  assignments: Entries<DesiredAssignment> | undefined;
  /** Assignments held through Keystone groups (`assignTo: group`), by group: absent for most people. */
  viaGroup: Map<string, Entries<DesiredAssignment>> | undefined;
  keys: Entries<DesiredKey> | undefined;
  memberships: Entries<DesiredMembership> | undefined;
}

/**
 * Grants of `policies` for one person in one cloud: every allow (in name order), then every deny, which always
 * wins. Null when nothing is left. Empty lists are one shared frozen array.
 */
export function computeAccess(
  identity: Identity,
  policies: readonly CompiledPolicy[],
  cloud: Cloud,
): CloudAccess | null {
  const a: Accumulator = {
    identityId: identity.id,
    projects: undefined,
    assignments: undefined,
    viaGroup: undefined,
    keys: undefined,
    memberships: undefined,
  };
  for (const p of policies) if (p.effect === "allow") grant(a, p, identity, cloud);
  for (const p of policies) if (p.effect === "deny") deny(a, p);
  const assignments = a.viaGroup ? allAssignments(a.assignments, a.viaGroup) : sorted(a.assignments, ASSIGNMENT);
  if (!a.projects?.list.length && !assignments.length && !a.keys?.list.length && !a.memberships?.list.length) {
    return null;
  }
  return {
    projects: sorted(a.projects, PROJECT),
    assignments,
    keys: sorted(a.keys, KEY),
    memberships: sorted(a.memberships, MEMBERSHIP),
  };
}

function sorted<T>(entries: Entries<T> | undefined, kind: EntryKind<T>): T[] {
  // One entry is in order already (most lists of one person in one cloud have one or none).
  if (!entries || entries.list.length === 0) return NONE;
  return entries.list.length === 1 ? entries.list : sortedEntries(entries, kind);
}

/** Direct assignments and those held through groups, in one sorted list. */
function allAssignments(
  direct: Entries<DesiredAssignment> | undefined,
  viaGroup: Map<string, Entries<DesiredAssignment>>,
): DesiredAssignment[] {
  const out = direct ? [...direct.list] : [];
  for (const entries of viaGroup.values()) for (const x of entries.list) out.push(x);
  return out.length === 0 ? NONE : sortInPlace(out, compareAssignments);
}

/**
 * Adds a policy to an entry's `policies`. A list of one is the first policy's shared {@link CompiledPolicy.named},
 * so it is replaced, never pushed to; a longer list is the entry's own.
 */
function addPolicy(entry: { policies: string[] }, name: string): void {
  const policies = entry.policies;
  if (policies[policies.length - 1] === name) return;
  if (policies.length === 1) entry.policies = [policies[0] as string, name];
  else policies.push(name);
}

function grant(a: Accumulator, p: CompiledPolicy, identity: Identity, cloud: Cloud): void {
  const forEach = p.forEach;
  if (!forEach) grantSet(a, p, identity, cloud, undefined);
  else for (const group of identity.groups) if (forEach(group)) grantSet(a, p, identity, cloud, group);
  if (p.keys) for (const publicKey of identity.sshKeys) addKey(a, publicKey, p);
}

/** The grants of one policy, once (or once per matching directory `group` under `spec.forEach`). */
function grantSet(a: Accumulator, p: CompiledPolicy, identity: Identity, cloud: Cloud, dirGroup?: string): void {
  for (const g of p.grants) {
    const domain = g.domain ?? cloud.domain;
    for (const group of g.groups) addMembership(a, domain, group, p);
    if (g.groupTemplates) {
      for (const t of g.groupTemplates) {
        const group = keystoneName(t.render(identity, cloud.id, dirGroup));
        if (group) addMembership(a, domain, group, p);
      }
    }
    if (g.groupsFromAttribute) {
      const { values, keep } = g.groupsFromAttribute;
      for (const group of values(identity)) if (keep(group)) addMembership(a, domain, group, p);
    }
    if (!g.project) continue;
    const name = keystoneName(g.project.render(identity, cloud.id, dirGroup));
    if (!name) continue; // a template that renders empty for this person grants nothing
    let project = a.projects && findEntry(a.projects, PROJECT, domain, name, "");
    if (!project) {
      project = { name, domain, tags: NONE, create: false, policies: p.named };
      a.projects = withEntry(a.projects, PROJECT, project);
    } else addPolicy(project, p.name);
    project.create ||= g.create;
    if (g.description && project.description === undefined) {
      project.description = g.description.render(identity, cloud.id, dirGroup);
    }
    project.tags = sortedUnion(project.tags, g.tags);
    if (g.quotas) project.quotas = mergeQuotas(project.quotas, g.quotas);
    if (g.tagTemplates) project.tags = sortedUnion(project.tags, renderTags(g.tagTemplates, identity, cloud, dirGroup));
    if (g.keystoneGroup) {
      // The group, in Archway's domain where sync creates groups, holds the roles; the person joins it.
      const holder = keystoneName(g.keystoneGroup.render(identity, cloud.id, dirGroup));
      if (!holder) continue; // no group to hold them: the roles are not given
      addMembership(a, cloud.domain, holder, p);
      for (const role of g.roles) addGroupAssignment(a, domain, name, role, holder, p);
    } else for (const role of g.roles) addAssignment(a, domain, name, role, p);
  }
}

/** Tags rendered for one person, made valid for Keystone (no ',' or '/', at most 60 characters), sorted. */
function renderTags(templates: readonly Template[], identity: Identity, cloud: Cloud, dirGroup?: string): string[] {
  const out = new Set<string>();
  for (const t of templates) {
    const tag = t.render(identity, cloud.id, dirGroup).replace(/[,/]/g, "-").slice(0, 60);
    if (tag !== "") out.add(tag);
  }
  return [...out].sort(compareStrings);
}

function addAssignment(a: Accumulator, domain: string, project: string, role: string, p: CompiledPolicy): void {
  const found = a.assignments && findEntry(a.assignments, ASSIGNMENT, domain, project, role);
  if (found) addPolicy(found, p.name);
  else {
    const assignment = { identityId: a.identityId, project, projectDomain: domain, role, policies: p.named };
    a.assignments = withEntry(a.assignments, ASSIGNMENT, assignment);
  }
}

function addGroupAssignment(
  a: Accumulator,
  domain: string,
  project: string,
  role: string,
  group: string,
  p: CompiledPolicy,
): void {
  a.viaGroup ??= new Map();
  const entries = a.viaGroup.get(group);
  const found = entries && findEntry(entries, ASSIGNMENT, domain, project, role);
  if (found) addPolicy(found, p.name);
  else {
    const assignment = { identityId: a.identityId, project, projectDomain: domain, role, policies: p.named, group };
    a.viaGroup.set(group, withEntry(entries, ASSIGNMENT, assignment));
  }
}

function addMembership(a: Accumulator, domain: string, group: string, p: CompiledPolicy): void {
  const found = a.memberships && findEntry(a.memberships, MEMBERSHIP, domain, group, "");
  if (found) addPolicy(found, p.name);
  else
    a.memberships = withEntry(a.memberships, MEMBERSHIP, {
      identityId: a.identityId,
      domain,
      group,
      policies: p.named,
    });
}

function addKey(a: Accumulator, publicKey: string, p: CompiledPolicy): void {
  const found = a.keys && findEntry(a.keys, KEY, publicKey, "", "");
  if (found) addPolicy(found, p.name);
  else a.keys = withEntry(a.keys, KEY, { identityId: a.identityId, publicKey, policies: p.named });
}

function deny(a: Accumulator, p: CompiledPolicy): void {
  const { denyProjects, denyRoles } = p;
  if (!denyProjects && !denyRoles) {
    a.projects = a.assignments = a.keys = a.memberships = a.viaGroup = undefined;
    return;
  }
  const denied = (x: DesiredAssignment) =>
    (!denyProjects || denyProjects(x.project)) && (!denyRoles || denyRoles.has(x.role));
  if (a.assignments) removeEntries(a.assignments, denied);
  // A role held through a group cannot be taken from one member alone: a deny wins, so the person leaves that group
  // (and with it every role the group holds).
  for (const [group, entries] of a.viaGroup ?? []) {
    if (!entries.list.some(denied)) continue;
    a.viaGroup?.delete(group);
    if (a.memberships) removeEntries(a.memberships, (m) => m.group === group);
  }
  if (!denyRoles && denyProjects && a.projects) removeEntries(a.projects, (x) => denyProjects(x.name));
}
