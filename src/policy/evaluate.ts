import type { Cloud } from "../config/index.js";
import type { Identity } from "../identity/index.js";
import type { CompiledPolicy, CompiledPolicySet } from "./compile.js";
import { attributeValues } from "./subjects.js";
import { keystoneName, renderTemplate } from "./template.js";

/** A project that should exist in a cloud. */
export interface DesiredProject {
  name: string;
  domain: string;
  description?: string;
  tags: string[];
  /** Archway creates and owns it; otherwise it must exist already. */
  create: boolean;
  /** Policies that asked for it, sorted. */
  policies: string[];
}

/** A role a person should hold on a project. */
export interface DesiredAssignment {
  identityId: string;
  project: string;
  projectDomain: string;
  role: string;
  policies: string[];
}

/** An SSH public key that should be in a cloud's Nova for a person. */
export interface DesiredKey {
  identityId: string;
  publicKey: string;
  policies: string[];
}

/** A Keystone group a person's user should belong to in a cloud. */
export interface DesiredMembership {
  identityId: string;
  group: string;
  /** Keystone domain of the group (the grant's domain, else the cloud's Archway domain). */
  domain: string;
  policies: string[];
}

/** One person's grants in one cloud. */
export interface CloudAccess {
  projects: DesiredProject[];
  assignments: DesiredAssignment[];
  keys: DesiredKey[];
  memberships: DesiredMembership[];
}

/** One person's grants, by cloud id (clouds without grants are absent). */
export type DesiredAccess = Map<string, CloudAccess>;

/** The policies whose subjects this person matches (allow and deny), in name order. */
export function matchingPolicies(identity: Identity, set: CompiledPolicySet): CompiledPolicy[] {
  if (set.byGroup.size === 0) return set.policies.filter((p) => p.subject(identity) === null);
  const candidates = new Set<CompiledPolicy>(set.unindexed);
  for (const g of identity.groups) for (const p of set.byGroup.get(g) ?? []) candidates.add(p);
  return set.policies.filter((p) => candidates.has(p) && p.subject(identity) === null);
}

/**
 * Everything one person should have, per cloud: the union of every matching allow policy, minus every matching
 * deny policy (a deny always wins). Deterministic: lists are sorted and merged whatever the policy order.
 * Clouds where the same policies apply (and no template names the cloud) share one computed result, so a
 * policy over a thousand clouds costs one evaluation, not a thousand. Treat the results as read-only.
 */
export function evaluate(identity: Identity, set: CompiledPolicySet): DesiredAccess {
  const out: DesiredAccess = new Map();
  const matched = matchingPolicies(identity, set);
  if (matched.length === 0) return out;
  const byCloud = new Map<string, CompiledPolicy[]>();
  for (const p of matched) {
    if (p.effect !== "allow") continue; // a deny alone never creates access in a cloud
    for (const cloudId of p.clouds) {
      const list = byCloud.get(cloudId);
      if (list) list.push(p);
      else byCloud.set(cloudId, [p]);
    }
  }
  const denies = matched.filter((p) => p.effect === "deny");
  for (const p of denies) for (const cloudId of p.clouds) byCloud.get(cloudId)?.push(p);
  const memo = new Map<string, CloudAccess | null>();
  for (const cloudId of [...byCloud.keys()].sort()) {
    const policies = byCloud.get(cloudId)!;
    const cloud = set.clouds.get(cloudId);
    if (!cloud) continue;
    const key = policies.some((p) => p.usesCloud)
      ? `@${cloudId}`
      : `${cloud.domain}\0${policies.map((p) => p.index).join(",")}`;
    let access = memo.get(key);
    if (access === undefined) {
      access = computeAccess(identity, policies, cloud);
      memo.set(key, access);
    }
    if (access) out.set(cloudId, access);
  }
  return out;
}

/** Grants of `policies` (allows in name order, then denies) for one person in one cloud; null when empty. */
function computeAccess(identity: Identity, policies: readonly CompiledPolicy[], cloud: Cloud): CloudAccess | null {
  const a: Accumulator = { projects: new Map(), assignments: new Map(), keys: new Map(), memberships: new Map() };
  for (const p of policies) if (p.effect === "allow") grant(a, p, identity, cloud);
  for (const p of policies) if (p.effect === "deny") deny(a, p);
  const access = finish(a, identity.id);
  return access.assignments.length + access.keys.length + access.memberships.length + access.projects.length > 0
    ? access
    : null;
}

interface Accumulator {
  projects: Map<string, { p: DesiredProject; policies: Set<string> }>;
  assignments: Map<string, { a: DesiredAssignment; policies: Set<string> }>;
  keys: Map<string, Set<string>>;
  memberships: Map<string, Set<string>>;
}

function grant(a: Accumulator, p: CompiledPolicy, identity: Identity, cloud: Cloud): void {
  for (const g of p.grants) {
    const groupDomain = g.domain ?? cloud.domain;
    for (const group of g.groups) addTo(a.memberships, `${groupDomain}/${group}`, p.name);
    if (g.groupsFromAttribute) {
      const values = g.groupsFromAttribute.filter(attributeValues(identity, g.groupsFromAttribute.name));
      for (const group of values) addTo(a.memberships, `${groupDomain}/${group}`, p.name);
    }
    if (!g.project) continue;
    const name = keystoneName(renderTemplate(g.project, identity, cloud.id));
    if (!name) continue; // a template that renders empty for this person grants nothing
    const domain = g.domain ?? cloud.domain;
    const key = `${domain}/${name}`;
    let project = a.projects.get(key);
    if (!project) {
      project = { p: { name, domain, tags: [], create: false, policies: [] }, policies: new Set() };
      a.projects.set(key, project);
    }
    project.policies.add(p.name);
    project.p.create ||= g.create;
    if (g.description && project.p.description === undefined)
      project.p.description = renderTemplate(g.description, identity, cloud.id);
    if (g.tags.length > 0) project.p.tags = [...new Set([...project.p.tags, ...g.tags])].sort();
    for (const role of g.roles) {
      const akey = `${key}/${role}`;
      let assignment = a.assignments.get(akey);
      if (!assignment) {
        assignment = {
          a: { identityId: identity.id, project: name, projectDomain: domain, role, policies: [] },
          policies: new Set(),
        };
        a.assignments.set(akey, assignment);
      }
      assignment.policies.add(p.name);
    }
  }
  if (p.keys) for (const k of identity.sshKeys) addTo(a.keys, k, p.name);
}

function addTo(map: Map<string, Set<string>>, key: string, policy: string): void {
  const set = map.get(key) ?? new Set<string>();
  set.add(policy);
  map.set(key, set);
}

function deny(a: Accumulator, p: CompiledPolicy): void {
  if (!p.denyProjects && !p.denyRoles) {
    a.projects.clear();
    a.assignments.clear();
    a.keys.clear();
    a.memberships.clear();
    return;
  }
  for (const [key, { a: assignment }] of a.assignments) {
    const projectHit = !p.denyProjects || p.denyProjects(assignment.project);
    const roleHit = !p.denyRoles || p.denyRoles.has(assignment.role);
    if (projectHit && roleHit) a.assignments.delete(key);
  }
  if (!p.denyRoles && p.denyProjects) {
    for (const [key, { p: project }] of a.projects) if (p.denyProjects(project.name)) a.projects.delete(key);
  }
}

function finish(a: Accumulator, identityId: string): CloudAccess {
  const byKey = <T>(m: Map<string, T>): [string, T][] =>
    m.size === 0
      ? []
      : m.size === 1
        ? [...m.entries()]
        : [...m.entries()].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
  return {
    projects: byKey(a.projects).map(([, { p, policies }]) => ({ ...p, policies: [...policies].sort() })),
    assignments: byKey(a.assignments).map(([, { a: x, policies }]) => ({ ...x, policies: [...policies].sort() })),
    keys: byKey(a.keys).map(([publicKey, policies]) => ({
      identityId,
      publicKey,
      policies: [...policies].sort(),
    })),
    memberships: byKey(a.memberships).map(([key, policies]) => {
      const slash = key.indexOf("/");
      return {
        identityId,
        domain: key.slice(0, slash),
        group: key.slice(slash + 1),
        policies: [...policies].sort(),
      };
    }),
  };
}
