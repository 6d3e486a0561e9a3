import type { DesiredCloudState, DesiredUser } from "../../../policy/index.js";
import type { PlanContext, Planned } from "../../resource.js";
import { type UserChanges, type UserOperation, users } from "./index.js";

/**
 * Shadow users: create, update (rename, contact, re-enable, password rotation, options). Owned users nobody asks for
 * any more are disabled now and deleted once disabled longer than the grace period. A user in Archway's domain
 * without Archway's mark is never adopted, changed or removed. In a just-in-time run only its people are touched.
 */
export function planUsers(ctx: PlanContext): Planned<UserOperation> {
  const operations: UserOperation[] = [];
  const problems: string[] = [];
  const observed = ctx.observed(users);
  const policies = policiesOf(ctx);
  for (const u of ctx.input.desired.users) {
    if (!ctx.inScope(u.identityId)) continue;
    const seen = observed.byIdentity.get(u.identityId);
    const base = { identityId: u.identityId, username: u.username, policies: policies.get(u.identityId) ?? [] };
    if (!seen) {
      const foreign = observed.foreignNames.get(u.username);
      if (foreign !== undefined)
        problems.push(`user ${u.username} exists in domain ${ctx.input.cloud.domain} ${foreign}: not adopted`);
      else operations.push({ kind: "createUser", ...base, email: u.email, displayName: u.displayName });
      continue;
    }
    const changes: UserChanges = {};
    if (seen.name !== u.username) changes.name = u.username;
    if ((seen.email ?? "") !== (u.email ?? "")) changes.email = u.email ?? "";
    if ((seen.description ?? "") !== (u.displayName ?? "")) changes.description = u.displayName ?? "";
    if (!seen.enabled) changes.enable = true;
    if (seen.keyVersion !== ctx.opts.keyVersion) changes.password = { from: seen.keyVersion, to: ctx.opts.keyVersion };
    if (!seen.optionsOk) changes.options = true;
    if (seen.remark) changes.mark = true;
    if (Object.keys(changes).length > 0) operations.push({ kind: "updateUser", ...base, userId: seen.id, changes });
  }

  const desiredIds = new Set(ctx.input.desired.users.map((u) => u.identityId));
  for (const seen of observed.byIdentity.values()) {
    if (desiredIds.has(seen.identityId) || !ctx.inScope(seen.identityId)) continue;
    const base = { identityId: seen.identityId, userId: seen.id, username: seen.name, policies: [] };
    if (seen.enabled || !seen.disabledAt) operations.push({ kind: "disableUser", ...base });
    else if (ctx.opts.now.getTime() - Date.parse(seen.disabledAt) >= ctx.opts.graceMs)
      operations.push({ kind: "deleteUser", ...base, keyNames: Object.keys(seen.keys).sort() });
  }
  return { operations, problems };
}

/**
 * Desired users (in scope) that have or will have an owned shadow user, by identity id: what grants, memberships
 * and keys may name. A name held by a user Archway does not own is not usable.
 */
export function usableUsers(ctx: PlanContext): Map<string, DesiredUser> {
  return ctx.memo(findUsableUsers);
}

function findUsableUsers(ctx: PlanContext): Map<string, DesiredUser> {
  const observed = ctx.observed(users);
  const out = new Map<string, DesiredUser>();
  for (const u of ctx.input.desired.users) {
    if (!ctx.inScope(u.identityId)) continue;
    if (!observed.byIdentity.has(u.identityId) && observed.foreignNames.has(u.username)) continue;
    out.set(u.identityId, u);
  }
  return out;
}

/** Identity id -> every policy that gives the person something in this cloud, sorted. */
export function policiesOf(ctx: PlanContext): Map<string, string[]> {
  return ctx.memo(policyIndex);
}

function policyIndex(ctx: PlanContext): Map<string, string[]> {
  const desired: DesiredCloudState = ctx.input.desired;
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

/** `update user alice (rename to al, email, reset password (key v1 -> v2))`. */
export function describeUserUpdate(op: Extract<UserOperation, { kind: "updateUser" }>): string {
  const c = op.changes;
  const what = [
    c.name && `rename to ${c.name}`,
    c.email !== undefined && "email",
    c.description !== undefined && "display name",
    c.enable && "enable",
    c.password && `reset password (key v${c.password.from} -> v${c.password.to})`,
    c.options && "user options",
    c.mark && "mark as this deployment's",
  ].filter(Boolean);
  return `update user ${op.username} (${what.join(", ")})`;
}
