import type { Identity } from "../identity/index.js";
import { computeAccess } from "./access.js";
import type { CompiledPolicy, CompiledPolicySet, MatchPlan } from "./compile.js";
import { matchPlan, sessionPlans } from "./match-plan.js";
import type { Quotas } from "./quotas.js";

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
  /**
   * Limits of the project per service (`quotas:` of its grants; two grants naming one resource: the larger, -1 the
   * largest). Frozen and shared between every person and project with the same grants: never written to.
   */
  quotas?: Quotas;
}

/** A role a person should hold on a project. */
export interface DesiredAssignment {
  identityId: string;
  project: string;
  projectDomain: string;
  role: string;
  policies: string[];
  /**
   * Held through this Keystone group of the cloud's Archway domain (`assignTo: group`), which the person joins,
   * rather than by the person's own user. Absent: assigned to the person.
   */
  group?: string;
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

/**
 * How the session asking was authenticated, as far as policy cares. Sync has no session: it provisions what a
 * session with a second factor may use ({@link WITH_MFA}); tokens ask with their session's own strength.
 */
export interface SessionStrength {
  /** The session passed a second factor (`satisfiesMfa` of its `amr`). */
  readonly mfa: boolean;
}

/** A session that passed a second factor; also what sync provisions in the clouds. */
export const WITH_MFA: SessionStrength = Object.freeze({ mfa: true });
/** A session without a second factor: the default wherever a caller does not say (policies requiring MFA left out). */
export const WITHOUT_MFA: SessionStrength = Object.freeze({ mfa: false });

/**
 * Everything one person should have, per cloud: the union of every matching allow policy, minus every matching
 * deny policy (a deny always wins). Deterministic: lists are sorted and merged whatever the policy order.
 * Clouds where the same policies apply (and no template names the cloud) share one computed result, so a
 * policy over a thousand clouds costs one evaluation, not a thousand. Treat the results as read-only: clouds share
 * result objects, and every empty list is one frozen array. Policies that require a second factor count only with
 * `strength.mfa` (sync passes {@link WITH_MFA}); without a strength they are left out.
 */
export function evaluate(identity: Identity, set: CompiledPolicySet, strength = WITHOUT_MFA): DesiredAccess {
  return accessOf(identity, set, matchPlan(identity, set, strength.mfa));
}

/**
 * One session's access and what sync provisions for the person, from one match: `provisioned` is the very same
 * object as `access` when nothing waits on a second factor (the session has one, or the person matches no policy
 * requiring it). Where they differ, the clouds hold roles this session must not use (see the broker).
 */
export function evaluateSession(
  identity: Identity,
  set: CompiledPolicySet,
  strength: SessionStrength,
): { access: DesiredAccess; provisioned: DesiredAccess } {
  if (strength.mfa || set.mfaOnly === 0) {
    const access = evaluate(identity, set, WITH_MFA);
    return { access, provisioned: access };
  }
  const plans = sessionPlans(identity, set);
  const provisioned = accessOf(identity, set, plans.provisioned);
  if (plans.session === plans.provisioned) return { access: provisioned, provisioned };
  return { access: accessOf(identity, set, plans.session), provisioned };
}

function accessOf(identity: Identity, set: CompiledPolicySet, plan: MatchPlan | undefined): DesiredAccess {
  const out: DesiredAccess = new Map();
  if (!plan) return out;
  if (plan.sameClouds) everyCloud(identity, plan, set, out);
  else perCloud(identity, plan.policies, set, out);
  return out;
}

/** The common login case (every matching policy covers the same clouds): no per-cloud grouping to build. */
function everyCloud(identity: Identity, plan: MatchPlan, set: CompiledPolicySet, out: DesiredAccess): void {
  const { policies: matched, namesCloud } = plan;
  if (!plan.allows) return; // a deny alone never creates access in a cloud
  // Without `{{ cloud }}` the result differs only by the cloud's Archway domain, and most inventories use one:
  // the first domain's result is kept at hand, a Map holds any others.
  let firstDomain: string | undefined;
  let firstAccess: CloudAccess | null = null;
  let others: Map<string, CloudAccess | null> | undefined;
  for (const r of matched[0]?.ranks ?? []) {
    const cloud = set.ordered[r];
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
    if (access) out.set(cloud.id, access);
  }
}

/** Groups clouds by the policies that apply there; each distinct group is computed once. */
function perCloud(
  identity: Identity,
  matched: readonly CompiledPolicy[],
  set: CompiledPolicySet,
  out: DesiredAccess,
): void {
  // The policies of each cloud, by the cloud's rank: an array, where a Map keyed by id would hash every id of
  // every policy, and the ranks sort as numbers rather than as strings.
  const byRank: (CompiledPolicy[] | undefined)[] = new Array(set.ordered.length);
  const touched: number[] = [];
  for (const p of matched) {
    if (p.effect !== "allow") continue; // a deny alone never creates access in a cloud
    for (const r of p.ranks) {
      const list = byRank[r];
      if (list) list.push(p);
      else {
        byRank[r] = [p];
        touched.push(r);
      }
    }
  }
  for (const p of matched) {
    if (p.effect === "deny") for (const r of p.ranks) byRank[r]?.push(p);
  }
  touched.sort((a, b) => a - b);
  const memo = new Map<string, CloudAccess | null>();
  // Clouds next to each other in id order mostly share their policies (a region's sites, say): the previous
  // cloud's result is checked first, without building the memo key.
  let previous: { policies: CompiledPolicy[]; domain: string; access: CloudAccess | null } | undefined;
  for (const r of touched) {
    const policies = byRank[r] ?? [];
    const cloud = set.ordered[r];
    if (!cloud) continue;
    const namesCloud = policies.some((p) => p.usesCloud);
    let access: CloudAccess | null | undefined;
    if (!namesCloud && previous?.domain === cloud.domain && samePolicies(previous.policies, policies)) {
      access = previous.access;
    } else {
      const key = namesCloud ? `@${cloud.id}` : `${cloud.domain}\0${policies.map((p) => p.index).join(",")}`;
      access = memo.get(key);
      if (access === undefined) {
        access = computeAccess(identity, policies, cloud);
        memo.set(key, access);
      }
      previous = namesCloud ? undefined : { policies, domain: cloud.domain, access };
    }
    if (access) out.set(cloud.id, access);
  }
}

function samePolicies(a: readonly CompiledPolicy[], b: readonly CompiledPolicy[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
