import { formatProblem } from "../config/index.js";
import { isArchwayError } from "../errors.js";
import {
  actionOf,
  type CloudPlan,
  createSync,
  describe,
  describeHolder,
  type JobResult,
  RUN_LOCKED,
  type SyncParts,
} from "../sync/index.js";
import {
  type CliIO,
  type Command,
  configOption,
  configPath,
  expectPositionals,
  parseCommandArgs,
  UsageError,
} from "./command.js";
import { livePolicies } from "./policies.js";
import { buildRuntime, type Runtime } from "./runtime.js";
import { secretsGate } from "./secrets-gate.js";

const HELP = `Usage:
  archway sync plan [--cloud ID] [--json] [--config FILE]
      read every cloud (or one) and print what a sync would change, per cloud:
      + create, ~ update, - revoke, ! disable, x delete, each with the policy that caused it
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
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(argv, {
      ...configOption,
      cloud: { type: "string" },
      json: { type: "boolean" },
      queue: { type: "boolean" },
      wait: { type: "boolean" },
      "deep-keys": { type: "boolean" },
    });
    const [sub] = positionals;
    expectPositionals(positionals, 1);
    if (sub !== "plan" && sub !== "apply") {
      throw new UsageError(sub ? `unknown subcommand '${sub}'` : "expected a subcommand: plan, apply");
    }
    const runtime = buildRuntime(configPath(values.config, io), io);
    try {
      const refused = secretsGate(runtime.loaded, io, { log: runtime.log });
      if (refused !== undefined) return refused;
      const sync = buildSync(runtime, io, values.queue ? "shared" : "inline");
      if (typeof sync === "number") return sync;
      try {
        return sub === "plan"
          ? await plan(sync, io, values.cloud, values.json ?? false)
          : await apply(sync, io, {
              cloudId: values.cloud,
              deepKeys: values["deep-keys"] ?? false,
              wait: values.wait ?? false,
              json: values.json ?? false,
              cloudCount: runtime.loaded.config.clouds.length,
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
export type LiveSync = SyncParts & { reloadPolicies(): string[] };

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
  });
  return { ...parts, reloadPolicies: () => live.reload().map(formatProblem) };
}

async function plan(sync: SyncParts, io: CliIO, cloudId: string | undefined, json: boolean): Promise<number> {
  const plans = await sync.service.plan({ cloudId });
  if (json) {
    io.out(JSON.stringify(plans, null, 2));
    return plans.some((p) => !("operations" in p)) ? 1 : 0;
  }
  let failed = false;
  for (const p of plans) {
    if (!("operations" in p)) {
      failed = true;
      io.out(`${p.cloudId}: UNAVAILABLE: ${p.reason}`);
      continue;
    }
    io.out(formatPlan(p));
  }
  return failed ? 1 : 0;
}

/** A plan as people read it: a summary line, then one line per operation with its policies, then problems. */
export function formatPlan(p: CloudPlan): string {
  const c = p.counts;
  const lines = [
    `${p.cloudId}: ${c.create} create, ${c.update} update, ${c.revoke} revoke, ${c.disable} disable, ${c.delete} delete` +
      (p.operations.length === 0 ? " (in sync)" : ""),
  ];
  for (const op of p.operations) {
    const why = op.policies.length ? `  [${op.policies.join(", ")}]` : actionOf(op) === "create" ? "" : "  [no policy]";
    lines.push(`  ${MARK[actionOf(op)]} ${describe(op)}${why}`);
  }
  for (const problem of p.problems) lines.push(`  ? ${problem}`);
  return lines.join("\n");
}

async function apply(
  sync: SyncParts,
  io: CliIO,
  opts: { cloudId: string | undefined; deepKeys: boolean; wait: boolean; json: boolean; cloudCount: number },
): Promise<number> {
  const { cloudId, deepKeys, cloudCount } = opts;
  const total = cloudId ? 1 : cloudCount;
  let done = 0;
  const onResult = (r: JobResult) => {
    done++;
    if (opts.json) return; // one JSON document at the end, nothing else on stdout
    if (io.isTTY) process.stderr.write(`\r${bar(done, Math.max(total, done))} ${r.cloudId}`.padEnd(60));
    io.out(`${io.isTTY ? "\n" : ""}${formatResult(r)}`);
  };
  const { runId, results } = await sync.service.full({
    cloudId,
    deepKeys,
    onResult,
    wait: opts.wait,
    onWait: (holder) => io.err(`archway sync: waiting for ${describeHolder(holder)} to end`),
  });
  const bad = results.filter((r) => r.outcome !== "converged");
  if (opts.json) {
    io.out(JSON.stringify({ runId, converged: results.length - bad.length, results }, null, 2));
    return bad.length > 0 ? 1 : 0;
  }
  io.out(`run ${runId}: ${results.length - bad.length} of ${results.length} clouds converged`);
  return bad.length > 0 ? 1 : 0;
}

function formatResult(r: JobResult): string {
  const counts = r.counts
    ? Object.entries(r.counts)
        .map(([k, v]) => `${v} ${k}`)
        .join(", ")
    : "";
  const detail = r.outcome === "converged" ? counts : `${r.reason ?? ""}`;
  return `${r.cloudId}: ${r.outcome}${detail ? ` (${detail})` : ""}`;
}

function bar(done: number, total: number): string {
  const width = 30;
  const filled = Math.round((done / Math.max(total, 1)) * width);
  return `[${"#".repeat(filled)}${" ".repeat(width - filled)}] ${done}/${total}`;
}
