import { ArchwayError } from "../errors.js";
import { bullConnection, engineHandler, startSyncWorker } from "../sync/index.js";
import { type Command, configOption, configPath, parseCommandArgs } from "./command.js";
import { buildOffboard } from "./offboard.js";
import { buildRuntime } from "./runtime.js";
import { scheduleSyncRuns } from "./schedule.js";
import { secretsGate } from "./secrets-gate.js";
import { buildSync } from "./sync.js";

const HELP = `Usage:
  archway worker [--concurrency N] [--no-schedule] [--config FILE]
      run sync jobs from the shared Redis queue (BullMQ); start as many as you like, they split the work.
      Every worker also schedules the periodic full sync (sync.intervalSeconds) and the incremental sync of the
      people the directory changed (sync.incrementalSeconds), and looks for people who left or were disabled
      (offboard.detectSeconds), offboarding them at once in every cloud; a lock in the store makes exactly one of them start
      each run. --no-schedule only runs jobs. Reloads the policy files on SIGHUP (a file with problems keeps the
      policies in use). Stops cleanly on SIGTERM/SIGINT. Refuses to start (exit 2) with public demo secrets or
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
    const refused = secretsGate(runtime.loaded, io, { log: runtime.log });
    if (refused !== undefined) {
      await runtime.close();
      return refused;
    }
    if (config.store.type === "memory") {
      await runtime.close();
      throw new ArchwayError(
        "queue_unsupported",
        "archway worker needs a Redis store (store.type: redis); without Redis, 'archway sync apply' runs the jobs itself",
        500,
      );
    }
    const sync = buildSync(runtime, io, "shared");
    if (typeof sync === "number") {
      await runtime.close();
      return sync;
    }
    const concurrency = values.concurrency ? Number(values.concurrency) : config.sync.concurrency;
    const worker = startSyncWorker(bullConnection(config.store, runtime.log), engineHandler(sync.engine), {
      concurrency,
      lockDurationMs: Number(io.env.ARCHWAY_WORKER_LOCK_MS ?? 30_000),
      onJob: (r) =>
        runtime.log.info({ job: r.jobId, cloud: r.cloudId, outcome: r.outcome, attempts: r.attempts }, "sync job done"),
    });
    const stopSchedule = values["no-schedule"]
      ? () => {}
      : scheduleSyncRuns(runtime, sync, buildOffboard(runtime, sync));
    // SIGHUP: policies changed on disk. They decide what this worker's scheduled runs want; a bad file keeps the
    // policies in use. (Jobs carry their desired state, so queued jobs run as their submitter planned them.)
    const reload = () => {
      const problems = sync.reloadPolicies();
      if (problems.length === 0) runtime.log.info("policies reloaded");
      else runtime.log.error({ problems }, "policies not reloaded: the files have problems; the previous ones stay");
    };
    process.on("SIGHUP", reload);
    await worker.waitUntilReady();
    io.out(`archway worker: ready (concurrency ${concurrency})`);
    await new Promise<void>((resolve) => {
      process.once("SIGTERM", resolve);
      process.once("SIGINT", resolve);
    });
    process.off("SIGHUP", reload);
    stopSchedule();
    await worker.close();
    await sync.close();
    await runtime.close();
    return 0;
  },
};
