import type { Cloud } from "../config/index.js";
import type { Identity } from "../identity/index.js";
import type { CompiledPolicy } from "./compile.js";
import type { CloudAccess, DesiredAssignment, DesiredKey, DesiredMembership, DesiredProject } from "./evaluate.js";
import { attributeValues } from "./subjects.js";
import { keystoneName } from "./template.js";

/**
 * What one person gets in one cloud while the policies are applied. The entries are the final objects, so
 * finishing only sorts them; each map is created on first use because most grants fill one or two of them.
 * Allows are applied in name order, so every `policies` list grows sorted and a repeat can only be its last entry.
 */
interface Accumulator {
  identityId: string;
  projects?: Map<string, DesiredProject>;
  assignments?: Map<string, DesiredAssignment>;
  keys?: Map<string, DesiredKey>;
  memberships?: Map<string, DesiredMembership>;
}

/**
 * Grants of `policies` for one person in one cloud: every allow (in name order), then every deny, which always
 * wins. Null when nothing is left.
 */
export function computeAccess(
  identity: Identity,
  policies: readonly CompiledPolicy[],
  cloud: Cloud,
): CloudAccess | null {
  const a: Accumulator = { identityId: identity.id };
  for (const p of policies) if (p.effect === "allow") grant(a, p, identity, cloud);
  for (const p of policies) if (p.effect === "deny") deny(a, p);
  if (!a.projects?.size && !a.assignments?.size && !a.keys?.size && !a.memberships?.size) return null;
  return {
    projects: byKey(a.projects),
    assignments: byKey(a.assignments),
    keys: byKey(a.keys),
    memberships: byKey(a.memberships),
  };
}

function addPolicy(policies: string[], name: string): void {
  if (policies[policies.length - 1] !== name) policies.push(name);
}

function grant(a: Accumulator, p: CompiledPolicy, identity: Identity, cloud: Cloud): void {
  for (const g of p.grants) {
    const domain = g.domain ?? cloud.domain;
    for (const group of g.groups) addMembership(a, domain, group, p.name);
    if (g.groupsFromAttribute) {
      const { name, keep } = g.groupsFromAttribute;
      for (const group of attributeValues(identity, name)) if (keep(group)) addMembership(a, domain, group, p.name);
    }
    if (!g.project) continue;
    const name = keystoneName(g.project.render(identity, cloud.id));
    if (!name) continue; // a template that renders empty for this person grants nothing
    const key = `${domain}/${name}`;
    a.projects ??= new Map();
    let project = a.projects.get(key);
    if (!project) {
      // A one-element literal: an empty array would get a backing store for 17 on its first push.
      project = { name, domain, tags: [], create: false, policies: [p.name] };
      a.projects.set(key, project);
    } else addPolicy(project.policies, p.name);
    project.create ||= g.create;
    if (g.description && project.description === undefined) {
      project.description = g.description.render(identity, cloud.id);
    }
    if (g.tags.length > 0) project.tags = [...new Set([...project.tags, ...g.tags])].sort();
    for (const role of g.roles) addAssignment(a, key, name, domain, role, p.name);
  }
  if (p.keys) for (const publicKey of identity.sshKeys) addKey(a, publicKey, p.name);
}

function addAssignment(
  a: Accumulator,
  projectKey: string,
  project: string,
  domain: string,
  role: string,
  policy: string,
) {
  const key = `${projectKey}/${role}`;
  a.assignments ??= new Map();
  let assignment = a.assignments.get(key);
  if (!assignment) {
    assignment = { identityId: a.identityId, project, projectDomain: domain, role, policies: [policy] };
    a.assignments.set(key, assignment);
  } else addPolicy(assignment.policies, policy);
}

function addMembership(a: Accumulator, domain: string, group: string, policy: string): void {
  const key = `${domain}/${group}`;
  a.memberships ??= new Map();
  let membership = a.memberships.get(key);
  if (!membership) {
    membership = { identityId: a.identityId, domain, group, policies: [policy] };
    a.memberships.set(key, membership);
  } else addPolicy(membership.policies, policy);
}

function addKey(a: Accumulator, publicKey: string, policy: string): void {
  a.keys ??= new Map();
  let key = a.keys.get(publicKey);
  if (!key) {
    key = { identityId: a.identityId, publicKey, policies: [policy] };
    a.keys.set(publicKey, key);
  } else addPolicy(key.policies, policy);
}

function deny(a: Accumulator, p: CompiledPolicy): void {
  if (!p.denyProjects && !p.denyRoles) {
    a.projects?.clear();
    a.assignments?.clear();
    a.keys?.clear();
    a.memberships?.clear();
    return;
  }
  if (a.assignments) {
    for (const [key, assignment] of a.assignments) {
      const projectHit = !p.denyProjects || p.denyProjects(assignment.project);
      const roleHit = !p.denyRoles || p.denyRoles.has(assignment.role);
      if (projectHit && roleHit) a.assignments.delete(key);
    }
  }
  if (!p.denyRoles && p.denyProjects && a.projects) {
    for (const [key, project] of a.projects) if (p.denyProjects(project.name)) a.projects.delete(key);
  }
}

/** The values in key order (code units, as `Array.prototype.sort`): the result never depends on policy order. */
function byKey<T>(m: Map<string, T> | undefined): T[] {
  if (!m || m.size === 0) return [];
  if (m.size === 1) {
    for (const only of m.values()) return [only];
  }
  return [...m.keys()].sort().map((k) => m.get(k) as T);
}
