import { isArchwayError } from "../errors.js";
import type { OffboardService } from "../offboard/index.js";
import { RUN_LOCKED, type SyncParts } from "../sync/index.js";
import type { Runtime } from "./runtime.js";

/**
 * Starts the periodic sync runs: a full run every `sync.intervalSeconds` and an incremental run (people the
 * directory changed since the last mark) every `sync.incrementalSeconds` (0 turns one off). A lock in the store
 * makes exactly one process start each run however many workers share the store; the lock expires just before
 * the next tick. With `offboard`, also the look for departures and disables every `offboard.detectSeconds`
 * (which retries clouds that were down, too), and the sources' watches (LDAP syncrepl) for departures within seconds.
 * Returns the function that stops the timers and the watches.
 */
export function scheduleSyncRuns(runtime: Runtime, sync: SyncParts, offboard?: OffboardService): () => void {
  const { config } = runtime.loaded;
  const schedule = (name: string, seconds: number, run: () => Promise<unknown>, atStart = false) => {
    if (seconds <= 0) return undefined;
    const intervalMs = seconds * 1000;
    const tick = async () => {
      const lock = await runtime.store
        .acquireLock(`sync:schedule:${name}`, Math.max(1_000, intervalMs - 1_000))
        .catch(() => null);
      if (!lock) return;
      run().catch((err: Error) => {
        // A run started by hand (`sync apply`) holds the run lock: this tick leaves the work to it.
        if (isArchwayError(err) && err.code === RUN_LOCKED) runtime.log.info({ run: name }, err.message);
        else runtime.log.error({ err: err.message, run: name }, "scheduled sync failed");
      });
    };
    if (atStart) void tick();
    return setInterval(tick, intervalMs);
  };
  const timers = [
    schedule("full", config.sync.intervalSeconds, () => sync.service.full()),
    schedule("incremental", config.sync.incrementalSeconds, () => sync.service.incremental()),
    // The first look right away: it sets the listing the next one is diffed against (or finds who left meanwhile).
    offboard ? schedule("offboard", config.offboard.detectSeconds, () => offboard.tick(), true) : undefined,
  ];
  // Seconds-level notice where a source can watch (LDAP content synchronisation); the looks stay the backstop.
  const watch = offboard?.watch({
    info: (source, message) => runtime.log.info({ source }, message),
    error: (source, message) => runtime.log.error({ source }, message),
  });
  return () => {
    for (const t of timers) if (t) clearInterval(t);
    void watch?.stop();
  };
}
