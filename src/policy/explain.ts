import type { Identity } from "../identity/index.js";
import type { CompiledPolicySet } from "./compile.js";
import { type CloudAccess, evaluate } from "./evaluate.js";

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
}

/** The answer to "why does this person have (or lack) access?". */
export interface Explanation {
  identity: { id: string; username: string; source: string; groups: string[] };
  policies: PolicyVerdict[];
  /** Resulting grants per cloud, after denies. */
  access: Record<string, CloudAccess>;
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
    };
  });
  const access: Record<string, CloudAccess> = {};
  for (const [cloudId, a] of evaluate(identity, set))
    if (!opts.cloudId || cloudId === opts.cloudId) access[cloudId] = a;
  return {
    identity: { id: identity.id, username: identity.username, source: identity.source, groups: identity.groups },
    policies,
    access,
  };
}

/** Human-readable rendering of an {@link Explanation}. */
export function formatExplanation(e: Explanation): string {
  const lines = [
    `${e.identity.username} (${e.identity.id}, groups: ${e.identity.groups.join(", ") || "none"})`,
    "",
    "Policies:",
  ];
  for (const p of e.policies) {
    const mark = p.matched ? (p.effect === "deny" ? "DENY " : "ALLOW") : "  -  ";
    lines.push(
      `  ${mark} ${p.name}  (${p.origin})${p.matched ? `  clouds: ${p.clouds.join(", ") || "none"}` : `  ${p.reason}`}`,
    );
  }
  lines.push("", "Access:");
  const clouds = Object.keys(e.access);
  if (clouds.length === 0) lines.push("  none");
  for (const cloudId of clouds) {
    const a = e.access[cloudId]!;
    lines.push(`  ${cloudId}:`);
    for (const x of a.assignments)
      lines.push(`    ${x.role} on ${x.projectDomain}/${x.project}  [${x.policies.join(", ")}]`);
    for (const m of a.memberships) lines.push(`    member of group ${m.group}  [${m.policies.join(", ")}]`);
    for (const k of a.keys)
      lines.push(
        `    ssh key ${k.publicKey.split(" ").slice(0, 1).join("")} …${k.publicKey.slice(-24)}  [${k.policies.join(", ")}]`,
      );
  }
  return lines.join("\n");
}
