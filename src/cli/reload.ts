import { type Config, loadConfig } from "../config/index.js";
import { StaticSource } from "../identity/index.js";
import type { OffboardService } from "../offboard/index.js";
import type { CliIO } from "./command.js";
import { configGeneration, type Runtime } from "./runtime.js";

/** What one reload did, for the log and tests. */
export interface ReloadOutcome {
  ok: boolean;
  /** Why the configuration was refused (the one in use stays). */
  error?: string;
  /** Per static source: usernames removed and newly disabled. */
  staticChanges: { source: string; removed: string[]; disabled: string[] }[];
  policyProblems: string[];
  /** Top-level sections that changed on disk but only take effect at a restart. */
  needsRestart: string[];
}

/**
 * The `SIGHUP` handler of `serve` and `worker`: reads the configuration file again and, when it is valid, takes
 * what a running process can take (the users of static sources, and the policy files); a file that does not
 * load is refused whole (logged, the configuration in use stays). Sections that changed but need a restart are
 * named in the log. People removed from or disabled in a static source are then looked for at once, and go
 * through offboarding as any departure does.
 */
export function configReloader(opts: {
  runtime: Runtime;
  io: CliIO;
  reloadPolicies: () => string[];
  offboard?: OffboardService;
}): () => Promise<ReloadOutcome> {
  const { runtime } = opts;
  const log = runtime.log;
  let running: Promise<ReloadOutcome> | undefined;
  const reload = async (): Promise<ReloadOutcome> => {
    const file = runtime.loaded.file;
    let next: Config;
    try {
      next = loadConfig(file, { env: opts.io.env, cwd: opts.io.cwd }).config;
    } catch (err) {
      const error = (err as Error).message;
      log.error({ file, error }, "configuration not reloaded: the file has problems; the configuration in use stays");
      return { ok: false, error, staticChanges: [], policyProblems: [], needsRestart: [] };
    }
    const generation = configGeneration(file);
    const staticChanges: ReloadOutcome["staticChanges"] = [];
    const needsRestart = changedSections(runtime.loaded.config, next);
    for (const source of runtime.sources) {
      if (!(source instanceof StaticSource)) continue;
      const config = next.identity.sources.find((s) => s.id === source.id);
      if (config?.type !== "static") continue; // a removed or retyped source is in needsRestart
      staticChanges.push({ source: source.id, ...source.replace(config, { generation }) });
    }
    const policyProblems = opts.reloadPolicies();
    if (policyProblems.length > 0)
      log.error({ problems: policyProblems }, "policies not reloaded: the files have problems; the previous ones stay");
    else log.info("policies reloaded");
    log.info({ staticChanges, needsRestart, policies: policyProblems.length === 0 }, "configuration reloaded");
    if (needsRestart.length > 0)
      log.warn({ sections: needsRestart }, "these configuration sections changed and take effect only at a restart");
    const leaving = staticChanges.some((c) => c.removed.length > 0 || c.disabled.length > 0);
    // At once, not at the next interval: the same look, diff and offboarding as any departure.
    if (leaving && opts.offboard)
      await opts.offboard.tick().catch((err: Error) => log.error({ err: err.message }, "offboarding look failed"));
    return { ok: true, staticChanges, policyProblems, needsRestart };
  };
  // One reload at a time: signals arriving meanwhile share the one running.
  return () => {
    running ??= reload().finally(() => {
      running = undefined;
    });
    return running;
  };
}

/** Top-level sections that differ (static users excepted: those are reloaded). */
function changedSections(before: Config, after: Config): string[] {
  const withoutStaticUsers = (c: Config) => ({
    ...c,
    identity: {
      ...c.identity,
      sources: c.identity.sources.map((s) => (s.type === "static" ? { ...s, users: [] } : s)),
    },
  });
  const a = withoutStaticUsers(before) as Record<string, unknown>;
  const b = withoutStaticUsers(after) as Record<string, unknown>;
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].filter(
    (k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]),
  );
}
