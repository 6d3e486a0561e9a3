/**
 * The reports of `sync plan` and `sync apply` beyond the per-cloud lines: the JSON documents (shapes in
 * reports.ts) and the deletion-limit warning people must not miss.
 */
import type { CloudPlan, CloudRunResult, JobResult } from "../sync/index.js";
import { summarize } from "./progress.js";
import type { SyncApplyReport, SyncPlanReport } from "./reports.js";

/** `sync plan --json`: every cloud's plan, the unreadable clouds, and which clouds apply would refuse. */
export function planReport(
  plans: readonly (CloudPlan | CloudRunResult)[],
  maxDeletes: { perCloud: number; total: number },
): SyncPlanReport {
  const clouds = plans.flatMap((p) => ("operations" in p ? [p] : []));
  const unavailable = plans.flatMap((p) => ("operations" in p ? [] : [{ cloudId: p.cloudId, reason: p.reason ?? "" }]));
  const totals = { create: 0, update: 0, revoke: 0, disable: 0, delete: 0, destructive: 0, operations: 0 };
  for (const p of clouds) {
    totals.create += p.counts.create;
    totals.update += p.counts.update;
    totals.revoke += p.counts.revoke;
    totals.disable += p.counts.disable;
    totals.delete += p.counts.delete;
    totals.destructive += p.destructive;
    totals.operations += p.operations.length;
  }
  const withFlag = clouds.map((p) => ({ ...p, overDeleteLimit: p.destructive > maxDeletes.perCloud }));
  // The total is counted over the clouds apply would not refuse anyway (those it refuses delete nothing).
  const accepted = withFlag.filter((p) => !p.overDeleteLimit).reduce((n, p) => n + p.destructive, 0);
  return {
    format: "archway-sync-plan-report/1",
    clouds: withFlag,
    unavailable,
    maxDeletesPerRun: maxDeletes,
    overDeleteLimit: withFlag.filter((p) => p.overDeleteLimit).map((p) => p.cloudId),
    overTotalDeleteLimit: accepted > maxDeletes.total,
    totals,
  };
}

/**
 * The lines that close a plan over a deletion limit, so that a long plan does not hide it: which clouds apply
 * would refuse, and whether the run's total would stop part of it. Empty when the plan is within the limits.
 */
export function deleteLimitWarning(
  report: Pick<SyncPlanReport, "maxDeletesPerRun" | "overDeleteLimit" | "overTotalDeleteLimit"> & {
    totals: { destructive: number };
  },
): string[] {
  const { perCloud, total } = report.maxDeletesPerRun;
  const lines: string[] = [];
  if (report.overDeleteLimit.length > 0) {
    const names = report.overDeleteLimit;
    const shown =
      names.length > 10 ? `${names.slice(0, 10).join(", ")} and ${names.length - 10} more` : names.join(", ");
    lines.push(
      `!! ${names.length} cloud(s) over sync.maxDeletesPerRun.perCloud = ${perCloud}: ${shown}. apply will refuse them, untouched; review the deletions above and raise the limit if they are intended.`,
    );
  }
  if (report.overTotalDeleteLimit)
    lines.push(
      `!! ${report.totals.destructive} deletions in all, over sync.maxDeletesPerRun.total = ${total}: apply will refuse the clouds that would pass it.`,
    );
  return lines;
}

/** The same warning for a saved plan (its clouds carry `overDeleteLimit` already). */
export function savedDeleteLimitWarning(
  saved: { clouds: readonly { cloudId: string; destructive: number; overDeleteLimit: boolean }[] },
  maxDeletes: { perCloud: number; total: number },
): string[] {
  const accepted = saved.clouds.filter((c) => !c.overDeleteLimit).reduce((n, c) => n + c.destructive, 0);
  return deleteLimitWarning({
    maxDeletesPerRun: maxDeletes,
    overDeleteLimit: saved.clouds.filter((c) => c.overDeleteLimit).map((c) => c.cloudId),
    overTotalDeleteLimit: accepted > maxDeletes.total,
    totals: { destructive: saved.clouds.reduce((n, c) => n + c.destructive, 0) },
  });
}

/** `sync apply --json`: the results and their summary (the table's totals). */
export function applyReport(runId: string, results: JobResult[], planId?: string): SyncApplyReport {
  const summary = summarize(results);
  return { runId, ...(planId ? { planId } : {}), converged: summary.converged, results, summary };
}
