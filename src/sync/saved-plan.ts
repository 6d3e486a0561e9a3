import { createHash } from "node:crypto";
import { z } from "zod";
import type { DesiredCloudState } from "../policy/index.js";
import { type Action, actionOf } from "./operations.js";
import type { CloudPlan } from "./plan.js";

/**
 * A saved plan, as Terraform keeps one: what a sync run would do per cloud, reviewed, then applied exactly. It does
 * not carry the operations to replay: at apply time each cloud is planned again from the same inputs and its plan
 * must be the saved one, operation for operation (by digest), or that cloud is refused. So a plan applied late
 * never acts on a cloud that changed since, nor on people or policies that changed since.
 */
export const SavedPlanSchema = z.object({
  format: z.literal("archway-sync-plan/1"),
  id: z.string().regex(/^[\w.:-]{1,100}$/),
  createdAt: z.string(),
  clouds: z.array(
    z.object({
      cloudId: z.string().min(1),
      /** Digest of the desired state the plan was made from (people and policies). */
      desiredDigest: z.string().regex(/^[0-9a-f]{64}$/),
      /** Digest of the operations: what apply must find again. */
      planDigest: z.string().regex(/^[0-9a-f]{64}$/),
      counts: z.record(z.string(), z.number()),
      destructive: z.number().int().nonnegative(),
      /** More deletions than `maxDeletesPerRun.perCloud`: applying it will be refused unless the limit is raised. */
      overDeleteLimit: z.boolean(),
      /** The operations as people read them (review only; apply never replays them). */
      operations: z.array(z.object({ action: z.string(), text: z.string(), policies: z.array(z.string()) })),
      problems: z.array(z.string()),
      /** Projects this deployment created that no policy grants any more: reported, never deleted. */
      orphans: z.array(z.string()).default([]),
    }),
  ),
  /** Clouds that could not be read when the plan was made: not in the plan, never applied from it. */
  unavailable: z.array(z.object({ cloudId: z.string(), reason: z.string() })),
});
export type SavedPlan = z.infer<typeof SavedPlanSchema>;
export type SavedCloudPlan = SavedPlan["clouds"][number];

/** What a run applying a saved plan checks per cloud before it writes anything. */
export interface PlanExpectation {
  planId: string;
  desiredDigest: string;
  planDigest: string;
}

/**
 * A digest that does not depend on the order lists came in (a directory or Keystone may list in any order):
 * object keys sorted, array elements sorted by their own canonical form.
 */
export function canonicalDigest(value: unknown): string {
  return createHash("sha256").update(canonical(value)).digest("hex");
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).sort().join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/** One cloud's entry of a saved plan. */
export function savedCloudPlan(
  plan: CloudPlan,
  desired: DesiredCloudState,
  perCloudDeleteLimit: number,
  describe: (op: CloudPlan["operations"][number]) => string,
): SavedCloudPlan {
  return {
    cloudId: plan.cloudId,
    desiredDigest: canonicalDigest(desired),
    planDigest: canonicalDigest(plan.operations),
    counts: { ...plan.counts },
    destructive: plan.destructive,
    overDeleteLimit: plan.destructive > perCloudDeleteLimit,
    operations: plan.operations.map((op) => ({ action: actionOf(op), text: describe(op), policies: op.policies })),
    problems: plan.problems,
    orphans: plan.orphans,
  };
}

/**
 * Why a fresh plan of one cloud does not match what was saved (then nothing is applied there), or null when it is
 * the same plan.
 */
export function planMismatch(
  expected: PlanExpectation,
  cloudId: string,
  desired: DesiredCloudState,
  plan: CloudPlan,
): string | null {
  if (canonicalDigest(desired) !== expected.desiredDigest) {
    return `the people or policies for cloud ${cloudId} changed since plan ${expected.planId} was made: nothing applied there; plan again`;
  }
  if (canonicalDigest(plan.operations) !== expected.planDigest) {
    return `cloud ${cloudId} changed since plan ${expected.planId} was made (it now needs ${plan.operations.length} operation(s), not the reviewed ones): nothing applied there; plan again`;
  }
  return null;
}

/** Total operations per action across a saved plan's clouds. */
export function savedTotals(plan: SavedPlan): Record<Action | "total", number> {
  const totals: Record<Action | "total", number> = { create: 0, update: 0, revoke: 0, disable: 0, delete: 0, total: 0 };
  for (const c of plan.clouds) {
    for (const [action, n] of Object.entries(c.counts)) {
      if (action in totals) totals[action as Action] += n;
      totals.total += n;
    }
  }
  return totals;
}
