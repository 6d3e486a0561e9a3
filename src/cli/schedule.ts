import { isArchwayError } from "../errors.js";
import { RUN_LOCKED, type SyncParts } from "../sync/index.js";
import type { Runtime } from "./runtime.js";

/**
 * Starts the periodic sync runs: a full run every `sync.intervalSeconds` and an incremental run (people the
 * directory changed since the last mark) every `sync.incrementalSeconds` (0 turns one off). A lock in the store
 * makes exactly one process start each run however many workers share the store; the lock expires just before
 * the next tick. Returns the function that stops the timers.
 */
export function scheduleSyncRuns(runtime: Runtime, sync: SyncParts): () => void {
  const { config } = runtime.loaded;
  const schedule = (name: string, seconds: number, run: () => Promise<unknown>) => {
    if (seconds <= 0) return undefined;
    const intervalMs = seconds * 1000;
    return setInterval(async () => {
      const lock = await runtime.store
        .acquireLock(`sync:schedule:${name}`, Math.max(1_000, intervalMs - 1_000))
        .catch(() => null);
      if (!lock) return;
      run().catch((err: Error) => {
        // A run started by hand (`sync apply`) holds the run lock: this tick leaves the work to it.
        if (isArchwayError(err) && err.code === RUN_LOCKED) runtime.log.info({ run: name }, err.message);
        else runtime.log.error({ err: err.message, run: name }, "scheduled sync failed");
      });
    }, intervalMs);
  };
  const timers = [
    schedule("full", config.sync.intervalSeconds, () => sync.service.full()),
    schedule("incremental", config.sync.incrementalSeconds, () => sync.service.incremental()),
  ];
  return () => {
    for (const t of timers) if (t) clearInterval(t);
  };
}
