import { startServer } from "../http/index.js";
import { registerSyncMetrics } from "../sync/index.js";
import { type Command, configOption, configPath, parseCommandArgs } from "./command.js";
import { buildGateway, type Gateway, gatewayApp } from "./gateway.js";
import { type Observability, startObservability } from "./observability.js";
import { configReloader } from "./reload.js";
import { buildRuntime } from "./runtime.js";
import { scheduleSyncRuns } from "./schedule.js";
import { secretsGate } from "./secrets-gate.js";
import { shutdownSignals, signalExitCode, unrefSleep } from "./shutdown.js";
import { reloadedFolders, watchConfigFiles } from "./watch.js";

const HELP = `Usage: archway serve [--config FILE] [--port N] [--host ADDR]

Runs the gateway's HTTP server. Without a store in the config it runs on the embedded in-memory store.
Stops gracefully on SIGTERM or SIGINT: stops accepting, lets in-flight requests finish for up to
shutdown.drainSeconds (default 30; then a 503 to what is left), closes the store, exits 0; an idle server exits at
once. A second signal stops at once (exit 128 + signal). Exits 1 when it cannot start (port in use, store).
Reloads on SIGHUP, and when the config file, a clouds.d file or a policy file changes (reload.watch, on by
default): the users of static sources (people removed or disabled there are offboarded), the clouds inventory and
the policy files; a config or policy file with problems is refused and logged, and what is in use stays. Other
sections need a restart (the log names them).
Refuses to start (exit 2) with public demo secrets or weak keys, unless demo: true and a loopback address.

Options:
  -c, --config FILE   config file (default $ARCHWAY_CONFIG or config/archway.yaml)
      --port N        override listen.port (0 picks a free port)
      --host ADDR     override listen.host`;

/** `archway serve`: runs the HTTP server until SIGTERM/SIGINT. */
export const serveCommand: Command = {
  name: "serve",
  summary: "run the gateway's HTTP server",
  help: HELP,
  async run(argv, io) {
    const { values } = parseCommandArgs(
      argv,
      { ...configOption, port: { type: "string" }, host: { type: "string" } },
      false,
    );
    const runtime = buildRuntime(configPath(values.config, io), io);
    const { config } = runtime.loaded;
    // From the start: a signal while starting is a stop once listening, not a death without cleanup.
    const signals = shutdownSignals();
    let gateway: Gateway | undefined;
    let stopSchedule = () => {};
    let reload = () => {};
    let observability: Observability | undefined;
    let stopWatch = () => {};
    try {
      const host = values.host ?? config.listen.host;
      const refused = secretsGate(runtime.loaded, io, { host, log: runtime.log });
      if (refused !== undefined) return refused;
      const live = buildGateway(runtime);
      gateway = live;
      // Per-cloud sync status (degraded, drift, last success) comes from the store, whichever process ran the sync.
      const metrics = runtime.metrics;
      registerSyncMetrics(metrics.registry, { store: runtime.store, cloudIds: () => config.clouds.map((c) => c.id) });
      const { app } = gatewayApp(runtime, live, metrics);
      const server = await startServer(app, {
        host,
        port: values.port !== undefined ? Number(values.port) : config.listen.port,
        log: runtime.log,
        tls: config.listen.tls,
        limits: config.http,
      });
      // The metrics listener (metrics.listen) and trace export (telemetry.otlpEndpoint), when configured.
      observability = await startObservability(runtime, io);
      // On the embedded default no worker can exist (it needs Redis), so the server runs the periodic syncs itself.
      if (live.sync && config.store.type === "memory")
        stopSchedule = scheduleSyncRuns(runtime, live.sync, live.offboard);
      runtime.log.info({ url: server.url, store: runtime.store.kind }, "archway listening");
      io.out(`Archway listening on ${server.url} (store: ${runtime.store.kind}, config: ${runtime.loaded.file})`);
      // SIGHUP: the configuration (static users) and the policies changed on disk. A bad file keeps what is in use.
      const reloader = configReloader({
        runtime,
        io,
        reloadPolicies: live.reloadPolicies,
        setClouds: live.setClouds,
        offboard: live.offboard,
      });
      reload = () => void reloader();
      process.on("SIGHUP", reload);
      // And on file change (reload.watch, on by default): the same reload, once a burst of writes is over.
      if (config.reload.watch)
        stopWatch = watchConfigFiles(reloadedFolders(runtime.loaded), {
          debounceMs: config.reload.debounceMs,
          onChange: reload,
          log: runtime.log,
        });
      const signal = await signals.first;
      const drainMs = config.shutdown.drainSeconds * 1000;
      runtime.log.info({ signal, drainSeconds: config.shutdown.drainSeconds }, "shutting down");
      // A second signal: the operator will not wait; what is in flight is cut (the process exits just after).
      const forced = signals.second.then((second) => {
        runtime.log.warn({ signal: second }, "second signal: stopping now, in-flight requests are cut");
        return signalExitCode(second);
      });
      return await Promise.race([server.close(drainMs).then(() => 0), forced]);
    } finally {
      signals.dispose();
      process.off("SIGHUP", reload);
      stopWatch();
      stopSchedule();
      // Bounded: a store that does not answer must not keep a stopping process alive.
      await Promise.race([
        (async () => {
          await observability?.close();
          await gateway?.close();
          await runtime.close();
        })().catch(() => {}),
        unrefSleep(5_000),
      ]);
    }
  },
};
