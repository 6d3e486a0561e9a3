import { ArchwayError } from "../errors.js";
import { bullConnection, engineHandler, type SyncWorker, startSyncWorker } from "../sync/index.js";
import { type Command, configOption, configPath, parseCommandArgs } from "./command.js";
import { type Observability, startObservability } from "./observability.js";
import { buildOffboard } from "./offboard.js";
import { configReloader } from "./reload.js";
import { buildRuntime } from "./runtime.js";
import { scheduleSyncRuns } from "./schedule.js";
import { secretsGate } from "./secrets-gate.js";
import { shutdownSignals, signalExitCode, unrefSleep } from "./shutdown.js";
import { buildSync, type LiveSync } from "./sync.js";
import { reloadedFolders, watchConfigFiles } from "./watch.js";

const HELP = `Usage:
  archway worker [--concurrency N] [--no-schedule] [--config FILE]
      run sync jobs from the shared Redis queue (BullMQ); start as many as you like, they split the work.
      Every worker also schedules the periodic full sync (sync.intervalSeconds) and the incremental sync of the
      people the directory changed (sync.incrementalSeconds), and looks for people who left or were disabled
      (offboard.detectSeconds), offboarding them at once in every cloud; a lock in the store makes exactly one of them start
      each run. --no-schedule only runs jobs. Reloads on SIGHUP and on file change (reload.watch) the users of static sources (people removed or
      disabled there are offboarded), the clouds inventory and the policy files (a file with problems is refused; what is in use stays). On SIGTERM/SIGINT it takes no new job and lets the running ones finish for up to
      shutdown.drainSeconds (default 30), then hands what is left back to the queue and exits 0; an idle worker
      exits at once. A second signal hands the running jobs back now (exit 128 + signal). Refuses to start (exit 2) with public demo secrets or
      weak keys, unless demo: true with a loopback listen.host.`;

/** `archway worker`: a BullMQ worker for sync jobs plus the lock-guarded periodic full and incremental syncs. */
export const workerCommand: Command = {
  name: "worker",
  summary: "run sync jobs from the shared queue and schedule periodic syncs",
  help: HELP,
  async run(argv, io) {
    const { values } = parseCommandArgs(
      argv,
      { ...configOption, concurrency: { type: "string" }, "no-schedule": { type: "boolean" } },
      false,
    );
    const runtime = buildRuntime(configPath(values.config, io), io);
    const { config } = runtime.loaded;
    const signals = shutdownSignals();
    let sync: LiveSync | undefined;
    let worker: SyncWorker | undefined;
    let stopSchedule = () => {};
    let reload = () => {};
    let observability: Observability | undefined;
    let stopWatch = () => {};
    try {
      const refused = secretsGate(runtime.loaded, io, { log: runtime.log });
      if (refused !== undefined) return refused;
      if (config.store.type === "memory") {
        throw new ArchwayError(
          "queue_unsupported",
          "archway worker needs a Redis store (store.type: redis, redis-sentinel or redis-cluster); without Redis, 'archway sync apply' runs the jobs itself",
          500,
        );
      }
      const built = buildSync(runtime, io, "shared");
      if (typeof built === "number") return built;
      const live = built;
      sync = live;
      // Sync runs, operations and the queue's depth are counted here: the metrics listener serves them.
      observability = await startObservability(runtime, io);
      const concurrency = values.concurrency ? Number(values.concurrency) : config.sync.concurrency;
      const started = startSyncWorker(bullConnection(config.store, runtime.log), engineHandler(live.engine), {
        concurrency,
        lockDurationMs: Number(io.env.ARCHWAY_WORKER_LOCK_MS ?? 30_000),
        stallCheckMs: Number(io.env.ARCHWAY_WORKER_STALL_CHECK_MS ?? 20_000),
        log: runtime.log,
        onRestart: () => runtime.metrics.silentReconnect("sync_worker"),
        onJob: (r) =>
          runtime.log.info(
            { job: r.jobId, cloud: r.cloudId, outcome: r.outcome, attempts: r.attempts },
            "sync job done",
          ),
      });
      worker = started;
      const offboard = values["no-schedule"] ? undefined : buildOffboard(runtime, live);
      if (offboard) stopSchedule = scheduleSyncRuns(runtime, live, offboard);
      // SIGHUP: the configuration (static users) and the policies changed on disk; a bad file keeps what is in use.
      // (Jobs carry their desired state, so queued jobs run as their submitter planned them.)
      const reloader = configReloader({ runtime, io, reloadPolicies: live.reloadPolicies, offboard });
      reload = () => void reloader();
      process.on("SIGHUP", reload);
      if (config.reload.watch)
        stopWatch = watchConfigFiles(reloadedFolders(runtime.loaded), {
          debounceMs: config.reload.debounceMs,
          onChange: reload,
          log: runtime.log,
        });
      await Promise.race([started.waitUntilReady(), signals.first]);
      io.out(`archway worker: ready (concurrency ${concurrency})`);
      const signal = await signals.first;
      stopSchedule();
      const drainSeconds = config.shutdown.drainSeconds;
      runtime.log.info({ signal, running: started.active, drainSeconds }, "shutting down: finishing running jobs");
      // A second signal: the running jobs go back to the queue now and the process exits.
      const forced = signals.second.then(async (second) => {
        const handedBack = await started.release();
        runtime.log.warn({ signal: second, handedBack }, "second signal: running jobs handed back to the queue");
        return signalExitCode(second);
      });
      const drained = started.close(drainSeconds * 1000).then((handedBack) => {
        if (handedBack > 0)
          runtime.log.warn({ handedBack, drainSeconds }, "drain timed out: running jobs handed back to the queue");
        return 0;
      });
      return await Promise.race([drained, forced]);
    } finally {
      signals.dispose();
      process.off("SIGHUP", reload);
      stopWatch();
      stopSchedule();
      // Bounded: a Redis that does not answer, or a cloud client still waiting on a job handed back, must not keep
      // a stopping worker alive.
      const handedBack = (await worker?.release()) ?? 0;
      await Promise.race([
        (async () => {
          await observability?.close();
          await sync?.close();
          await runtime.close();
        })().catch(() => {}),
        unrefSleep(handedBack > 0 ? 1_000 : 5_000),
      ]);
    }
  },
};
