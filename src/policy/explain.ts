import type { Identity } from "../identity/index.js";
import type { CompiledPolicySet } from "./compile.js";
import { tupleKey } from "./entries.js";
import { type CloudAccess, evaluate, WITH_MFA, WITHOUT_MFA } from "./evaluate.js";
import { formatQuotas } from "./quotas.js";

/** Why one policy did or did not apply to a person. */
export interface PolicyVerdict {
  name: string;
  effect: "allow" | "deny";
  origin: string;
  matched: boolean;
  /** The first condition that failed, when it did not match. */
  reason?: string;
  /** Clouds the policy covers (filtered by `cloudId` when given). */
  clouds: string[];
  /** `spec.requires.mfa`: its grants apply only to sessions that passed a second factor. */
  requiresMfa?: true;
  /** `spec.forEach`: the person's directory groups the glob matches, one grant set each (empty: no grants). */
  forEachGroups?: string[];
}

/** Grants in one cloud that wait on a second factor: a session without one does not get them. */
export interface MfaOnlyGrants {
  assignments: { projectDomain: string; project: string; role: string }[];
  memberships: { domain: string; group: string }[];
}

/** The answer to "why does this person have (or lack) access?". */
export interface Explanation {
  identity: { id: string; username: string; source: string; groups: string[] };
  policies: PolicyVerdict[];
  /** Resulting grants per cloud, after denies: what sync provisions, and what a session with a second factor gets. */
  access: Record<string, CloudAccess>;
  /** Per cloud, the part of `access` that a session without a second factor does not get (absent: none). */
  mfaOnly: Record<string, MfaOnlyGrants>;
}

/** Evaluates every policy for one person and says, for each, whether it matched and why not. */
export function explain(identity: Identity, set: CompiledPolicySet, opts: { cloudId?: string } = {}): Explanation {
  const cloudFilter = (ids: string[]) => (opts.cloudId ? ids.filter((id) => id === opts.cloudId) : ids);
  const policies = set.policies.map((p): PolicyVerdict => {
    const reason = p.subject(identity);
    const clouds = cloudFilter(p.clouds);
    const outOfScope = opts.cloudId !== undefined && clouds.length === 0;
    return {
      name: p.name,
      effect: p.effect,
      origin: p.origin,
      matched: reason === null && !outOfScope,
      ...(reason !== null ? { reason } : outOfScope ? { reason: `clouds: does not cover ${opts.cloudId}` } : {}),
      clouds,
      ...(p.requiresMfa ? { requiresMfa: true as const } : {}),
      ...(p.forEach ? { forEachGroups: identity.groups.filter(p.forEach) } : {}),
    };
  });
  const access: Record<string, CloudAccess> = {};
  const mfaOnly: Record<string, MfaOnlyGrants> = {};
  const withoutMfa = set.mfaOnly === 0 ? undefined : evaluate(identity, set, WITHOUT_MFA);
  for (const [cloudId, a] of evaluate(identity, set, WITH_MFA)) {
    if (opts.cloudId && cloudId !== opts.cloudId) continue;
    access[cloudId] = a;
    const waiting = withoutMfa && missingFrom(a, withoutMfa.get(cloudId));
    if (waiting) mfaOnly[cloudId] = waiting;
  }
  return {
    identity: { id: identity.id, username: identity.username, source: identity.source, groups: identity.groups },
    policies,
    access,
    mfaOnly,
  };
}

/** The assignments and memberships of `full` that `session` lacks; undefined when it lacks none. */
function missingFrom(full: CloudAccess, session: CloudAccess | undefined): MfaOnlyGrants | undefined {
  const has = new Set(session?.assignments.map((x) => tupleKey(x.projectDomain, x.project, x.role)));
  const member = new Set(session?.memberships.map((m) => tupleKey(m.domain, m.group, "")));
  const out: MfaOnlyGrants = {
    assignments: full.assignments
      .filter((x) => !has.has(tupleKey(x.projectDomain, x.project, x.role)))
      .map(({ projectDomain, project, role }) => ({ projectDomain, project, role })),
    memberships: full.memberships
      .filter((m) => !member.has(tupleKey(m.domain, m.group, "")))
      .map(({ domain, group }) => ({ domain, group })),
  };
  return out.assignments.length + out.memberships.length > 0 ? out : undefined;
}

/** The note a grant that waits on a second factor carries in explanations. */
export const MFA_ONLY_NOTE = "granted only with a second factor";

/** Human-readable rendering of an {@link Explanation}. */
export function formatExplanation(e: Explanation): string {
  const lines = [
    `${e.identity.username} (${e.identity.id}, groups: ${e.identity.groups.join(", ") || "none"})`,
    "",
    "Policies:",
  ];
  for (const p of e.policies) {
    const mark = p.matched ? (p.effect === "deny" ? "DENY " : "ALLOW") : "  -  ";
    const mfa = p.requiresMfa ? `  (requires mfa: ${MFA_ONLY_NOTE})` : "";
    const each =
      p.matched && p.forEachGroups ? `  for each group: ${p.forEachGroups.join(", ") || "none matches"}` : "";
    lines.push(
      `  ${mark} ${p.name}  (${p.origin})${p.matched ? `  clouds: ${p.clouds.join(", ") || "none"}` : `  ${p.reason}`}${each}${mfa}`,
    );
  }
  lines.push("", "Access:");
  const clouds = Object.keys(e.access);
  if (clouds.length === 0) lines.push("  none");
  for (const cloudId of clouds) {
    const a = e.access[cloudId]!;
    const waiting = e.mfaOnly?.[cloudId];
    const roleNote = (x: { projectDomain: string; project: string; role: string }) =>
      waiting?.assignments.some(
        (w) => w.projectDomain === x.projectDomain && w.project === x.project && w.role === x.role,
      )
        ? `  (${MFA_ONLY_NOTE})`
        : "";
    const groupNote = (m: { domain: string; group: string }) =>
      waiting?.memberships.some((w) => w.domain === m.domain && w.group === m.group) ? `  (${MFA_ONLY_NOTE})` : "";
    lines.push(`  ${cloudId}:`);
    for (const x of a.assignments)
      lines.push(
        `    ${x.role} on ${x.projectDomain}/${x.project}${x.group === undefined ? "" : ` through group ${x.group}`}  [${x.policies.join(", ")}]${roleNote(x)}`,
      );
    for (const p of a.projects)
      if (p.quotas)
        lines.push(`    quotas of ${p.domain}/${p.name}: ${formatQuotas(p.quotas)}  [${p.policies.join(", ")}]`);
    for (const m of a.memberships)
      lines.push(`    member of group ${m.group}  [${m.policies.join(", ")}]${groupNote(m)}`);
    for (const k of a.keys)
      lines.push(
        `    ssh key ${k.publicKey.split(" ").slice(0, 1).join("")} …${k.publicKey.slice(-24)}  [${k.policies.join(", ")}]`,
      );
  }
  return lines.join("\n");
}
