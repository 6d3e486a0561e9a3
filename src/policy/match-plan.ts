import type { Identity } from "../identity/index.js";
import type { CompiledPolicy, CompiledPolicySet, MatchPlan } from "./compile.js";

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
 * Sets of up to this many policies name a combination of them by a bit mask of their indexes, an integer V8 keeps
 * unboxed (31 bits with the sign): matching then builds no list and sorts nothing.
 */
const MASK_BITS = 30;

/** Plans kept per set: a set with many policies could see many combinations, and each plan is small but not free. */
const PLANS_MAX = 4096;

/**
 * The plan for the policies this person matches; undefined when none does. Without `mfa` (a session that passed no
 * second factor) the policies that require one are left out, as if the person did not match them: one AND on the
 * mask, nothing at all when no policy requires a second factor.
 */
export function matchPlan(identity: Identity, set: CompiledPolicySet, mfa = false): MatchPlan | undefined {
  if (set.policies.length > MASK_BITS) {
    let matched = matchingPolicies(identity, set);
    if (!mfa && set.mfaOnly !== 0) matched = matched.filter((p) => !p.requiresMfa);
    return matched.length === 0 ? undefined : planOf(matched);
  }
  let mask = set.byGroup.size === 0 ? matchMask(identity, set.policies) : indexedMatchMask(identity, set);
  if (!mfa) mask &= ~set.mfaOnly;
  return planOfMask(set, mask);
}

/**
 * The plans of a session without a second factor (`session`) and of the same person with one (`provisioned`: what
 * sync gives them in the clouds), from one match. The same plan when no policy the person matches requires MFA.
 */
export function sessionPlans(
  identity: Identity,
  set: CompiledPolicySet,
): { session: MatchPlan | undefined; provisioned: MatchPlan | undefined } {
  if (set.policies.length > MASK_BITS) {
    const matched = matchingPolicies(identity, set);
    const provisioned = matched.length === 0 ? undefined : planOf(matched);
    if (!matched.some((p) => p.requiresMfa)) return { session: provisioned, provisioned };
    const allowed = matched.filter((p) => !p.requiresMfa);
    return { session: allowed.length === 0 ? undefined : planOf(allowed), provisioned };
  }
  const mask = set.byGroup.size === 0 ? matchMask(identity, set.policies) : indexedMatchMask(identity, set);
  const provisioned = planOfMask(set, mask);
  if ((mask & set.mfaOnly) === 0) return { session: provisioned, provisioned };
  return { session: planOfMask(set, mask & ~set.mfaOnly), provisioned };
}

function planOfMask(set: CompiledPolicySet, mask: number): MatchPlan | undefined {
  if (mask === 0) return undefined;
  let plan = set.plans.get(mask);
  if (!plan) {
    plan = planOf(set.policies.filter((p) => (mask & (1 << p.index)) !== 0));
    if (set.plans.size < PLANS_MAX) set.plans.set(mask, plan);
  }
  return plan;
}

function matchMask(identity: Identity, policies: readonly CompiledPolicy[]): number {
  let mask = 0;
  for (const p of policies) if (p.matches(identity)) mask |= 1 << p.index;
  return mask;
}

/** {@link matchMask} over the policies the person's groups make candidates, each checked once. */
function indexedMatchMask(identity: Identity, set: CompiledPolicySet): number {
  let mask = matchMask(identity, set.unindexed);
  let checked = 0;
  for (const g of identity.groups) {
    const list = set.byGroup.get(g);
    if (!list) continue;
    for (const p of list) {
      const bit = 1 << p.index;
      if ((checked & bit) !== 0) continue;
      checked |= bit;
      if (p.matches(identity)) mask |= bit;
    }
  }
  return mask;
}

function planOf(policies: readonly CompiledPolicy[]): MatchPlan {
  const clouds = policies[0]?.clouds;
  return {
    policies,
    // Compiled policies with equal cloud lists share the array (see indexPolicies): compared by reference.
    sameClouds: policies.every((p) => p.clouds === clouds),
    allows: policies.some((p) => p.effect === "allow"),
    namesCloud: policies.some((p) => p.usesCloud),
  };
}
