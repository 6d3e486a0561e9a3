/**
 * The reports of `sync plan` and `sync apply` beyond the per-cloud plan lines: the JSON documents (shapes in
 * reports.ts), the deletion-limit warning people must not miss, and how an apply shows itself as it runs.
 */
import type { CloudPlan, CloudRunResult, JobResult } from "../sync/index.js";
import type { CliIO } from "./command.js";
import { type ApplyProgress, applyProgress, summarize, summaryTable } from "./progress.js";
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
  type ReportCloud = SyncPlanReport["clouds"][number];
  const withFlag = clouds.map(
    (p): ReportCloud => ({
      ...p,
      // Operation types are interfaces (no index signature); their JSON is what the loose schema describes.
      operations: p.operations as unknown as ReportCloud["operations"],
      overDeleteLimit: p.destructive > maxDeletes.perCloud,
    }),
  );
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

/** Where `buildSync`'s per-operation callback finds the bars of the run in progress. */
export type ProgressSlot = { current?: ApplyProgress };

/**
 * How an apply shows itself: `--json`, one document at the end and nothing else on stdout; on a terminal, bars on
 * stderr while it runs, then the summary table; otherwise one line per cloud as each finishes. Then the run line.
 */
export function startDisplay(io: CliIO, opts: { json: boolean; progress: ProgressSlot }, clouds: number) {
  const bars = opts.json ? undefined : applyProgress(io, { clouds });
  opts.progress.current = bars;
  return {
    result(r: JobResult) {
      if (opts.json) return;
      if (io.isTTY) bars?.result(r);
      else io.out(formatResult(r));
    },
    end(runId: string, results: JobResult[], planId?: string): number {
      bars?.finish();
      opts.progress.current = undefined;
      const bad = results.filter((r) => r.outcome !== "converged");
      if (opts.json) {
        io.out(JSON.stringify(applyReport(runId, results, planId), null, 2));
        return bad.length > 0 ? 1 : 0;
      }
      if (io.isTTY) {
        io.out(summaryTable(results));
        for (const r of bad) io.out(formatResult(r));
      }
      const of = planId ? ` (plan ${planId})` : "";
      io.out(`run ${runId}${of}: ${results.length - bad.length} of ${results.length} clouds converged`);
      return bad.length > 0 ? 1 : 0;
    },
  };
}

/** One cloud's result as a line. */
export function formatResult(r: JobResult): string {
  const counts = r.counts
    ? Object.entries(r.counts)
        .map(([k, v]) => `${v} ${k}`)
        .join(", ")
    : "";
  const detail = r.outcome === "converged" ? counts : `${r.reason ?? ""}`;
  return `${r.cloudId}: ${r.outcome}${detail ? ` (${detail})` : ""}`;
}
