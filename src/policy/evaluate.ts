import type { Identity } from "../identity/index.js";
import { computeAccess } from "./access.js";
import type { CompiledPolicy, CompiledPolicySet } from "./compile.js";

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

/** One person's grants in one cloud (read-only: shared between clouds, and empty lists are one frozen array). */
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
  const matched: CompiledPolicy[] = [];
  if (set.byGroup.size === 0) {
    for (const p of set.policies) if (p.matches(identity)) matched.push(p);
    return matched;
  }
  let previous: CompiledPolicy | undefined;
  for (const p of candidates(identity, set)) {
    if (p !== previous && p.matches(identity)) matched.push(p);
    previous = p; // a policy indexed under two of the person's groups comes twice, side by side
  }
  return matched;
}

/** The policies this person's groups (or no group requirement) make worth checking, in name order. */
function candidates(identity: Identity, set: CompiledPolicySet): CompiledPolicy[] {
  const picked = [...set.unindexed];
  for (const g of identity.groups) {
    const list = set.byGroup.get(g);
    if (list) for (const p of list) picked.push(p);
  }
  return picked.sort((a, b) => a.index - b.index);
}

/**
 * Everything one person should have, per cloud: the union of every matching allow policy, minus every matching
 * deny policy (a deny always wins). Deterministic: lists are sorted and merged whatever the policy order.
 * Clouds where the same policies apply (and no template names the cloud) share one computed result, so a
 * policy over a thousand clouds costs one evaluation, not a thousand. Treat the results as read-only: clouds share
 * result objects, and every empty list is one frozen array.
 */
export function evaluate(identity: Identity, set: CompiledPolicySet): DesiredAccess {
  const out: DesiredAccess = new Map();
  const matched = matchingPolicies(identity, set);
  const first = matched[0];
  if (!first) return out;
  // Compiled policies with equal cloud lists share the array: then every cloud gets the same policies.
  let sameClouds = true;
  for (const p of matched) if (p.clouds !== first.clouds) sameClouds = false;
  if (sameClouds) everyCloud(identity, matched, set, out);
  else perCloud(identity, matched, set, out);
  return out;
}

/** The common login case (every matching policy covers the same clouds): no per-cloud grouping to build. */
function everyCloud(identity: Identity, matched: CompiledPolicy[], set: CompiledPolicySet, out: DesiredAccess): void {
  let allows = false;
  let namesCloud = false;
  for (const p of matched) {
    if (p.effect === "allow") allows = true;
    if (p.usesCloud) namesCloud = true;
  }
  if (!allows) return; // a deny alone never creates access in a cloud
  // Without `{{ cloud }}` the result differs only by the cloud's Archway domain, and most inventories use one:
  // the first domain's result is kept at hand, a Map holds any others.
  let firstDomain: string | undefined;
  let firstAccess: CloudAccess | null = null;
  let others: Map<string, CloudAccess | null> | undefined;
  for (const cloudId of matched[0]?.clouds ?? []) {
    const cloud = set.clouds.get(cloudId);
    if (!cloud) continue;
    let access: CloudAccess | null | undefined;
    if (namesCloud) access = computeAccess(identity, matched, cloud);
    else if (cloud.domain === firstDomain) access = firstAccess;
    else if (firstDomain === undefined) {
      firstDomain = cloud.domain;
      access = firstAccess = computeAccess(identity, matched, cloud);
    } else {
      others ??= new Map();
      access = others.get(cloud.domain);
      if (access === undefined) {
        access = computeAccess(identity, matched, cloud);
        others.set(cloud.domain, access);
      }
    }
    if (access) out.set(cloudId, access);
  }
}

/** Groups clouds by the policies that apply there; each distinct group is computed once. */
function perCloud(identity: Identity, matched: CompiledPolicy[], set: CompiledPolicySet, out: DesiredAccess): void {
  const byCloud = new Map<string, CompiledPolicy[]>();
  for (const p of matched) {
    if (p.effect !== "allow") continue; // a deny alone never creates access in a cloud
    for (const cloudId of p.clouds) {
      const list = byCloud.get(cloudId);
      if (list) list.push(p);
      else byCloud.set(cloudId, [p]);
    }
  }
  for (const p of matched) {
    if (p.effect === "deny") for (const cloudId of p.clouds) byCloud.get(cloudId)?.push(p);
  }
  const memo = new Map<string, CloudAccess | null>();
  for (const cloudId of [...byCloud.keys()].sort()) {
    const policies = byCloud.get(cloudId) ?? [];
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
}
