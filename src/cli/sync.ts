import { readFileSync, writeFileSync } from "node:fs";
import { type Cloud, formatProblem } from "../config/index.js";
import { isArchwayError } from "../errors.js";
import { configuredBreakers } from "../openstack/index.js";
import {
  actionOf,
  type CloudPlan,
  createSync,
  describe,
  describeHolder,
  RUN_LOCKED,
  type SavedPlan,
  SavedPlanSchema,
  type SyncParts,
  savedTotals,
} from "../sync/index.js";
import {
  type CliIO,
  type Command,
  configOption,
  configPath,
  expectPositionals,
  parseCommandArgs,
  requireCloud,
  stderrLog,
  UsageError,
  unknownSubcommand,
} from "./command.js";
import { livePolicies } from "./policies.js";
import { buildRuntime, type Runtime } from "./runtime.js";
import { secretsGate } from "./secrets-gate.js";
import {
  deleteLimitWarning,
  type ProgressSlot,
  planReport,
  savedDeleteLimitWarning,
  startDisplay,
} from "./sync-report.js";

const HELP = `Usage:
  archway sync plan [--cloud ID] [--json] [--out FILE] [--detailed-exitcode] [--config FILE]
      read every cloud (or one) and print what a sync would change, per cloud:
      + create, ~ update, - revoke, ! disable, x delete, each with the policy that caused it.
      A cloud with more deletions than sync.maxDeletesPerRun.perCloud is flagged: apply would refuse it.
      --out FILE saves the plan, to apply exactly it later (below).
      --detailed-exitcode: 0 no changes, 2 changes, 1 an error, an unreadable cloud or a plan over the limit.
  archway sync apply FILE [--wait] [--json] [--config FILE]
      apply a saved plan exactly: each cloud is planned again and written to only if its plan is the saved one;
      a cloud that changed since (or whose people or policies did) is refused, untouched, and the others applied.
  archway sync apply [--cloud ID] [--deep-keys] [--queue] [--wait] [--json] [--config FILE]
      apply it (a progress bar on a terminal; --json: one JSON document with every cloud's result). Plans with more deletions than sync.maxDeletesPerRun are refused.
      --queue hands the jobs to 'archway worker' processes through Redis instead of running them here.
      --deep-keys also reads every person's Nova keypairs (catches keys deleted by hand).
      One full run per cloud at a time (a lock in the store): while another holds a cloud, apply says which run
      holds it and exits 3; --wait runs after it instead.

Exit codes: 0 done, 1 a cloud failed or a plan was refused, 2 bad input (also public demo secrets or weak keys,
unless demo: true with a loopback listen.host), 3 another sync run holds the lock.`;

const MARK = { create: "+", update: "~", revoke: "-", disable: "!", delete: "x" } as const;

/** `archway sync plan|apply`. */
export const syncCommand: Command = {
  name: "sync",
  summary: "plan or apply users, projects, roles and SSH keys in every cloud",
  help: HELP,
  subcommands: ["plan", "apply"],
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(argv, {
      ...configOption,
      cloud: { type: "string" },
      json: { type: "boolean" },
      out: { type: "string" },
      "detailed-exitcode": { type: "boolean" },
      queue: { type: "boolean" },
      wait: { type: "boolean" },
      "deep-keys": { type: "boolean" },
    });
    const [sub, planFile] = positionals;
    expectPositionals(positionals, sub === "apply" ? 2 : 1);
    if (planFile && (values.cloud || values["deep-keys"]))
      throw new UsageError("a saved plan names its clouds: --cloud and --deep-keys do not apply to it");
    if (sub !== "plan" && sub !== "apply") throw unknownSubcommand(sub, syncCommand.subcommands ?? []);
    const runtime = buildRuntime(configPath(values.config, io), io, { logDestination: stderrLog() });
    try {
      requireCloud(runtime.loaded.config.clouds, values.cloud);
      const refused = secretsGate(runtime.loaded, io, { log: runtime.log });
      if (refused !== undefined) return refused;
      // The engine reports each applied operation; the bars of this run (if any) listen from apply on.
      const progress: ProgressSlot = {};
      const sync = buildSync(runtime, io, values.queue ? "shared" : "inline", (cloudId, done, total) =>
        progress.current?.operation(cloudId, done, total),
      );
      if (typeof sync === "number") return sync;
      try {
        if (sub === "plan") {
          const opts = {
            cloudId: values.cloud,
            json: values.json ?? false,
            detailed: values["detailed-exitcode"] ?? false,
          };
          return values.out ? await savePlan(sync, io, { ...opts, out: values.out }) : await plan(sync, io, opts);
        }
        if (planFile)
          return await applySaved(sync, io, planFile, {
            wait: values.wait ?? false,
            json: values.json ?? false,
            progress,
          });
        return await apply(sync, io, {
          cloudId: values.cloud,
          deepKeys: values["deep-keys"] ?? false,
          wait: values.wait ?? false,
          json: values.json ?? false,
          cloudCount: runtime.loaded.config.clouds.length,
          progress,
        });
      } catch (err) {
        // Not a failure of this run: another one is doing the work. A distinct code lets a cron job tell.
        if (isArchwayError(err) && err.code === RUN_LOCKED) {
          io.err(`archway sync: ${err.message}`);
          return 3;
        }
        throw err;
      } finally {
        await sync.close();
      }
    } finally {
      await runtime.close();
    }
  },
};

/** Sync parts whose policies can be compiled again while the process runs (a worker's SIGHUP). */
export type LiveSync = SyncParts & { reloadPolicies(clouds?: readonly Cloud[]): string[] };

/** Compiles the policies and builds the sync parts; prints policy problems and returns 2 when there are any. */
export function buildSync(
  runtime: Runtime,
  io: CliIO,
  queue: "inline" | "shared",
  onProgress?: (cloudId: string, done: number, total: number) => void,
): LiveSync | number {
  const live = livePolicies(runtime, io.cwd);
  for (const p of live.problems) io.err(formatProblem(p));
  if (live.problems.length > 0) return 2;
  const parts = createSync({
    config: runtime.loaded.config,
    store: runtime.store,
    audit: runtime.audit,
    sources: runtime.sources,
    policies: live.current,
    queue,
    onProgress,
    log: runtime.log,
    metrics: runtime.metrics,
    // A cloud that hangs fails its job fast once its breaker opens, instead of every retry waiting on it.
    clientOptions: { breakers: configuredBreakers(runtime.loaded.config.breaker, runtime.log) },
  });
  return { ...parts, reloadPolicies: (clouds) => live.reload(clouds).map(formatProblem) };
}

interface PlanOpts {
  cloudId: string | undefined;
  json: boolean;
  detailed: boolean;
}

async function plan(sync: SyncParts, io: CliIO, opts: PlanOpts): Promise<number> {
  const plans = await sync.service.plan({ cloudId: opts.cloudId });
  const { perCloud } = sync.engine.maxDeletes;
  const ok = plans.flatMap((p) => ("operations" in p ? [p] : []));
  const failed = plans.length - ok.length;
  const report = planReport(plans, sync.engine.maxDeletes);
  const over = report.overDeleteLimit.length;
  if (opts.json) io.out(JSON.stringify(report, null, 2));
  else {
    for (const p of plans) {
      if (!("operations" in p)) io.out(`${p.cloudId}: UNAVAILABLE: ${p.reason}`);
      else io.out(formatPlan(p, perCloud));
    }
    for (const line of deleteLimitWarning(report)) io.out(line);
  }
  return planExit(
    { failed, over: over + (report.overTotalDeleteLimit ? 1 : 0), changes: report.totals.operations > 0 },
    opts.detailed,
  );
}

/** Exit code of a plan: 1 for anything that stops an apply; with --detailed-exitcode, 2 when there are changes. */
function planExit(p: { failed: number; over: number; changes: boolean }, detailed: boolean): number {
  if (p.failed > 0) return 1;
  if (!detailed) return 0;
  if (p.over > 0) return 1;
  return p.changes ? 2 : 0;
}

async function savePlan(sync: SyncParts, io: CliIO, opts: PlanOpts & { out: string }): Promise<number> {
  const saved = await sync.service.savePlan({ cloudId: opts.cloudId });
  writeFileSync(opts.out, `${JSON.stringify(saved, null, 2)}\n`, { mode: 0o600 });
  if (opts.json) io.out(JSON.stringify(saved, null, 2));
  else {
    for (const c of saved.clouds) io.out(formatSavedCloud(c));
    for (const u of saved.unavailable) io.out(`${u.cloudId}: UNAVAILABLE: ${u.reason}`);
    for (const line of savedDeleteLimitWarning(saved, sync.engine.maxDeletes)) io.out(line);
    const totals = savedTotals(saved);
    io.out(`plan ${saved.id}: ${totals.total} operation(s) in ${saved.clouds.length} cloud(s), saved to ${opts.out}`);
    io.out(`apply exactly this plan with: archway sync apply ${opts.out}`);
  }
  // Any limit passed (per cloud or in total) stops part of the apply: exit 1 with --detailed-exitcode.
  const over = savedDeleteLimitWarning(saved, sync.engine.maxDeletes).length;
  const changes = saved.clouds.some((c) => c.operations.length > 0);
  return planExit({ failed: saved.unavailable.length, over, changes }, opts.detailed);
}

async function applySaved(
  sync: SyncParts,
  io: CliIO,
  file: string,
  opts: { wait: boolean; json: boolean; progress: ProgressSlot },
): Promise<number> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    io.err(`archway sync: cannot read ${file}: ${(err as Error).message}`);
    return 2;
  }
  let parsed: ReturnType<typeof SavedPlanSchema.safeParse>;
  try {
    parsed = SavedPlanSchema.safeParse(JSON.parse(text));
  } catch {
    io.err(`archway sync: ${file} is not JSON: not a plan saved by 'archway sync plan --out'`);
    return 2;
  }
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    io.err(`archway sync: ${file} is not a saved plan: ${first?.path.join(".") || "(top)"}: ${first?.message}`);
    return 2;
  }
  const show = startDisplay(io, opts, parsed.data.clouds.length);
  const { runId, results } = await sync.service.applySaved(parsed.data, {
    wait: opts.wait,
    onResult: show.result,
    onWait: (holder) => io.err(`archway sync: waiting for ${describeHolder(holder)} to end`),
  });
  return show.end(runId, results, parsed.data.id);
}

/** A saved plan's cloud as people read it. */
function formatSavedCloud(c: SavedPlan["clouds"][number]): string {
  const counts = ["create", "update", "revoke", "disable", "delete"].map((a) => `${c.counts[a] ?? 0} ${a}`).join(", ");
  const lines = [`${c.cloudId}: ${counts}${c.operations.length === 0 ? " (in sync)" : ""}`];
  if (c.overDeleteLimit)
    lines.push(`  !! ${c.destructive} deletions, over sync.maxDeletesPerRun.perCloud: apply will refuse this cloud`);
  for (const op of c.operations) {
    const why = op.policies.length ? `  [${op.policies.join(", ")}]` : op.action === "create" ? "" : "  [no policy]";
    lines.push(`  ${MARK[op.action as keyof typeof MARK] ?? "?"} ${op.text}${why}`);
  }
  for (const problem of c.problems) lines.push(`  ? ${problem}`);
  lines.push(...orphanLines(c.orphans));
  return lines.join("\n");
}

/** Orphaned projects, after the operations: kept, for a person to delete or hand over. */
function orphanLines(orphans: readonly string[]): string[] {
  return orphans.map((key) => `  ~ orphan project ${key}: no policy grants it any more (kept, never deleted by sync)`);
}

/** A plan as people read it: a summary line, then one line per operation with its policies, then problems. */
export function formatPlan(p: CloudPlan, perCloudDeleteLimit = Number.POSITIVE_INFINITY): string {
  const c = p.counts;
  const lines = [
    `${p.cloudId}: ${c.create} create, ${c.update} update, ${c.revoke} revoke, ${c.disable} disable, ${c.delete} delete` +
      (p.operations.length === 0 ? " (in sync)" : ""),
  ];
  if (p.destructive > perCloudDeleteLimit)
    lines.push(
      `  !! ${p.destructive} deletions, over sync.maxDeletesPerRun.perCloud = ${perCloudDeleteLimit}: apply will refuse this cloud`,
    );
  for (const op of p.operations) {
    const why = op.policies.length ? `  [${op.policies.join(", ")}]` : actionOf(op) === "create" ? "" : "  [no policy]";
    lines.push(`  ${MARK[actionOf(op)]} ${describe(op)}${why}`);
  }
  for (const problem of p.problems) lines.push(`  ? ${problem}`);
  lines.push(...orphanLines(p.orphans));
  return lines.join("\n");
}

async function apply(
  sync: SyncParts,
  io: CliIO,
  opts: {
    cloudId: string | undefined;
    deepKeys: boolean;
    wait: boolean;
    json: boolean;
    cloudCount: number;
    progress: ProgressSlot;
  },
): Promise<number> {
  const { cloudId, deepKeys, cloudCount } = opts;
  const show = startDisplay(io, opts, cloudId ? 1 : cloudCount);
  const { runId, results } = await sync.service.full({
    cloudId,
    deepKeys,
    onResult: show.result,
    wait: opts.wait,
    onWait: (holder) => io.err(`archway sync: waiting for ${describeHolder(holder)} to end`),
  });
  return show.end(runId, results);
}
