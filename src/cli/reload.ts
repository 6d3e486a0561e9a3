import { type Cloud, type Config, loadConfig } from "../config/index.js";
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
  /** The cloud inventory taken (ids); absent when it did not change or was refused with the policies. */
  clouds?: { added: string[]; removed: string[]; changed: string[] };
  /** Top-level sections that changed on disk but only take effect at a restart. */
  needsRestart: string[];
}

/**
 * The reload of `serve` and `worker` (on `SIGHUP` and on file change): reads the configuration file again and,
 * when it is valid, takes what a running process can take (the users of static sources, the policy files and the
 * clouds inventory; the policies are compiled against the new clouds and the two are taken together or not at
 * all); a file that does not load is refused whole (logged, the configuration in use stays). Sections that
 * changed but need a restart are named in the log. People removed from or disabled in a static source are then looked for at once, and go
 * through offboarding as any departure does.
 */
export function configReloader(opts: {
  runtime: Runtime;
  io: CliIO;
  /** Compiles the policies again (against `clouds` when the inventory changed); problems keep the ones in use. */
  reloadPolicies: (clouds?: readonly Cloud[]) => string[];
  /** Parts that keep their own per-cloud state (broker, catalogs) follow a changed inventory through this. */
  setClouds?: (clouds: readonly Cloud[]) => void;
  offboard?: OffboardService;
}): () => Promise<ReloadOutcome> {
  const { runtime } = opts;
  const log = runtime.log;
  let running: Promise<ReloadOutcome> | undefined;
  const reload = async (): Promise<ReloadOutcome> => {
    const file = runtime.loaded.file;
    let next: Config;
    try {
      const loaded = loadConfig(file, { env: opts.io.env, cwd: opts.io.cwd });
      next = loaded.config;
      runtime.loaded.secrets.addAll(loaded.secrets);
    } catch (err) {
      const error = (err as Error).message;
      log.error({ file, error }, "configuration not reloaded: the file has problems; the configuration in use stays");
      return { ok: false, error, staticChanges: [], policyProblems: [], needsRestart: [] };
    }
    const generation = configGeneration(file);
    const staticChanges: ReloadOutcome["staticChanges"] = [];
    const clouds = runtime.loaded.config.clouds;
    const cloudChanges = diffClouds(clouds, next.clouds);
    const needsRestart = changedSections(runtime.loaded.config, next).filter((s) => s !== "clouds");
    for (const source of runtime.sources) {
      if (!(source instanceof StaticSource)) continue;
      const config = next.identity.sources.find((s) => s.id === source.id);
      if (config?.type !== "static") continue; // a removed or retyped source is in needsRestart
      staticChanges.push({ source: source.id, ...source.replace(config, { generation }) });
    }
    // The policies must hold against the inventory about to be in use: both are taken together, or neither.
    const policyProblems = opts.reloadPolicies(cloudChanges ? next.clouds : undefined);
    if (policyProblems.length > 0) {
      log.error({ problems: policyProblems }, "policies not reloaded: the files have problems; the previous ones stay");
      if (cloudChanges)
        log.error(
          { ...cloudChanges },
          "clouds not reloaded: the policies do not hold against them; the clouds in use stay",
        );
    } else {
      log.info("policies reloaded");
      if (cloudChanges) {
        // In place: the sync engine, the pages, offboarding and the metrics read this one list.
        clouds.splice(0, clouds.length, ...next.clouds);
        opts.setClouds?.(clouds);
        log.info({ ...cloudChanges }, "clouds reloaded");
        if (cloudChanges.changed.length > 0)
          log.warn(
            { clouds: cloudChanges.changed },
            "these clouds changed: policies, plans and pages use the new definition; open connections keep their settings until a restart",
          );
      }
    }
    log.info({ staticChanges, needsRestart, policies: policyProblems.length === 0 }, "configuration reloaded");
    if (needsRestart.length > 0)
      log.warn({ sections: needsRestart }, "these configuration sections changed and take effect only at a restart");
    const leaving = staticChanges.some((c) => c.removed.length > 0 || c.disabled.length > 0);
    // At once, not at the next interval: the same look, diff and offboarding as any departure.
    if (leaving && opts.offboard)
      await opts.offboard.tick().catch((err: Error) => log.error({ err: err.message }, "offboarding look failed"));
    const taken = policyProblems.length === 0 && cloudChanges ? { clouds: cloudChanges } : {};
    return { ok: true, staticChanges, policyProblems, needsRestart, ...taken };
  };
  // One reload at a time. A signal or a file change arriving meanwhile shares the one running, and one more reload
  // follows it: the running one may have read the files before that change.
  let again = false;
  const start = (): Promise<ReloadOutcome> => {
    if (running) {
      again = true;
      return running;
    }
    running = reload().finally(() => {
      running = undefined;
      if (again) {
        again = false;
        void start();
      }
    });
    return running;
  };
  return start;
}

/** Clouds added, removed and changed (by id), or undefined when the inventory is the same. */
function diffClouds(
  before: readonly Cloud[],
  after: readonly Cloud[],
): { added: string[]; removed: string[]; changed: string[] } | undefined {
  const old = new Map(before.map((c) => [c.id, c]));
  const ids = new Set(after.map((c) => c.id));
  const added = after.filter((c) => !old.has(c.id)).map((c) => c.id);
  const removed = before.filter((c) => !ids.has(c.id)).map((c) => c.id);
  const changed = after
    .filter((c) => old.has(c.id) && JSON.stringify(old.get(c.id)) !== JSON.stringify(c))
    .map((c) => c.id);
  const reordered = JSON.stringify(before.map((c) => c.id)) !== JSON.stringify(after.map((c) => c.id));
  return added.length + removed.length + changed.length > 0 || reordered ? { added, removed, changed } : undefined;
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
