import type { PlanView } from "./admin-data.js";

/** The actions of a plan, in the order pages show them. */
export const PLAN_ACTIONS = ["create", "update", "revoke", "disable", "delete"] as const;
export type PlanAction = (typeof PLAN_ACTIONS)[number];

/** The summary's columns: what a reviewer weighs first. Deletes are every action that takes away. */
export const SUMMARY_COLUMNS = ["creates", "updates", "deletes"] as const;
export type SummaryColumn = (typeof SUMMARY_COLUMNS)[number];

const COLUMN_OF: Record<PlanAction, SummaryColumn> = {
  create: "creates",
  update: "updates",
  revoke: "deletes",
  disable: "deletes",
  delete: "deletes",
};

/** One row of the summary table: a cloud, or the clouds folded into "and N more". */
export interface SummaryRow {
  cloudId: string;
  counts: Record<SummaryColumn, number>;
  total: number;
  error?: string;
  overDeleteLimit?: boolean;
  problems: number;
}

/** One action's operations, per cloud (each cloud's list capped for the page; the count is the whole). */
export interface ActionGroup {
  action: PlanAction;
  total: number;
  clouds: { cloudId: string; count: number; operations: PlanView["clouds"][number]["operations"] }[];
}

/** What the plan page shows: totals, the largest clouds, the rest folded, and the per-action groups. */
export interface PlanSummary {
  total: number;
  totals: Record<SummaryColumn, number>;
  /** Operations per action, for the totals line. */
  byAction: Record<PlanAction, number>;
  /** Clouds with operations, problems or an error, largest first. */
  changing: SummaryRow[];
  /** The first `topClouds` of `changing`, shown as rows. */
  top: SummaryRow[];
  /** The rest of `changing` summed into one row (absent when none is left). */
  rest?: SummaryRow & { clouds: number };
  inSync: number;
  unavailable: number;
  overDeleteLimit: string[];
  groups: ActionGroup[];
}

const zero = (): Record<SummaryColumn, number> => ({ creates: 0, updates: 0, deletes: 0 });

/**
 * Summarises a plan per cloud and action (pure), so that a plan of thousands of operations over hundreds of clouds
 * reads on one screen: a table of the `topClouds` largest clouds and one row for the rest, then one group per
 * action, each cloud's operations capped at `perCloudLimit` in the group (the counts stay exact).
 */
export function summarisePlan(plan: PlanView, opts: { topClouds?: number; perCloudLimit?: number } = {}): PlanSummary {
  const topClouds = opts.topClouds ?? 12;
  const perCloudLimit = opts.perCloudLimit ?? 200;
  const byAction = Object.fromEntries(PLAN_ACTIONS.map((a) => [a, 0])) as Record<PlanAction, number>;
  const totals = zero();
  const rows: SummaryRow[] = [];
  let inSync = 0;
  for (const cloud of plan.clouds) {
    const counts = zero();
    for (const op of cloud.operations) {
      const action = asAction(op.action);
      if (!action) continue;
      counts[COLUMN_OF[action]]++;
      byAction[action]++;
    }
    const total = cloud.operations.length;
    for (const col of SUMMARY_COLUMNS) totals[col] += counts[col];
    if (total === 0 && !cloud.error && cloud.problems.length === 0) {
      inSync++;
      continue;
    }
    rows.push({
      cloudId: cloud.cloudId,
      counts,
      total,
      problems: cloud.problems.length,
      ...(cloud.error ? { error: cloud.error } : {}),
      ...(cloud.overDeleteLimit ? { overDeleteLimit: true } : {}),
    });
  }
  // Errors and refusals first (a reviewer must see them), then the largest clouds.
  const weight = (r: SummaryRow) => (r.error || r.overDeleteLimit ? 1 : 0);
  rows.sort((a, b) => weight(b) - weight(a) || b.total - a.total || (a.cloudId < b.cloudId ? -1 : 1));
  const top = rows.slice(0, topClouds);
  const left = rows.slice(topClouds);
  const rest =
    left.length === 0
      ? undefined
      : left.reduce<SummaryRow & { clouds: number }>(
          (sum, r) => {
            for (const col of SUMMARY_COLUMNS) sum.counts[col] += r.counts[col];
            sum.total += r.total;
            sum.problems += r.problems;
            return sum;
          },
          { cloudId: `${left.length} more clouds`, counts: zero(), total: 0, problems: 0, clouds: left.length },
        );
  const groups: ActionGroup[] = PLAN_ACTIONS.filter((a) => byAction[a] > 0).map((action) => ({
    action,
    total: byAction[action],
    clouds: plan.clouds
      .map((cloud) => {
        const ops = cloud.operations.filter((op) => op.action === action);
        return { cloudId: cloud.cloudId, count: ops.length, operations: ops.slice(0, perCloudLimit) };
      })
      .filter((c) => c.count > 0)
      .sort((a, b) => b.count - a.count || (a.cloudId < b.cloudId ? -1 : 1)),
  }));
  return {
    total: plan.total,
    totals,
    byAction,
    changing: rows,
    top,
    ...(rest ? { rest } : {}),
    inSync,
    unavailable: plan.clouds.filter((c) => c.error).length,
    overDeleteLimit: rows.filter((r) => r.overDeleteLimit).map((r) => r.cloudId),
    groups,
  };
}

function asAction(action: string): PlanAction | undefined {
  return (PLAN_ACTIONS as readonly string[]).includes(action) ? (action as PlanAction) : undefined;
}
