import { createHttpMetrics, startServer } from "../http/index.js";
import { registerSyncMetrics } from "../sync/index.js";
import { type Command, configOption, configPath, parseCommandArgs } from "./command.js";
import { buildGateway, gatewayApp } from "./gateway.js";
import { buildRuntime } from "./runtime.js";
import { scheduleSyncRuns } from "./schedule.js";
import { secretsGate } from "./secrets-gate.js";

const HELP = `Usage: archway serve [--config FILE] [--port N] [--host ADDR]

Runs the gateway's HTTP server. Without a store in the config it runs on the embedded in-memory store.
Stops gracefully on SIGTERM or SIGINT: stops accepting, drains in-flight requests, closes the store.
Reloads the policy files on SIGHUP (a file with problems keeps the policies in use, and the problems are logged).
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
    const host = values.host ?? config.listen.host;
    const refused = secretsGate(runtime.loaded, io, { host, log: runtime.log });
    if (refused !== undefined) {
      await runtime.close();
      return refused;
    }
    const gateway = buildGateway(runtime);
    // Per-cloud sync status (degraded, drift, last success) comes from the store, whichever process ran the sync.
    const metrics = createHttpMetrics();
    registerSyncMetrics(metrics.registry, { store: runtime.store, cloudIds: () => config.clouds.map((c) => c.id) });
    const { app } = gatewayApp(runtime, gateway, metrics);
    const server = await startServer(app, {
      host,
      port: values.port !== undefined ? Number(values.port) : config.listen.port,
      log: runtime.log,
      tls: config.listen.tls,
      limits: config.http,
    });
    // On the embedded default no worker can exist (it needs Redis), so the server runs the periodic syncs itself.
    const stopSchedule =
      gateway.sync && config.store.type === "memory"
        ? scheduleSyncRuns(runtime, gateway.sync, gateway.offboard)
        : () => {};
    runtime.log.info({ url: server.url, store: runtime.store.kind }, "archway listening");
    io.out(`Archway listening on ${server.url} (store: ${runtime.store.kind}, config: ${runtime.loaded.file})`);
    // SIGHUP: policies changed on disk (a deploy, a reviewed merge). A bad file keeps the policies in use.
    const reload = () => {
      const problems = gateway.reloadPolicies();
      if (problems.length === 0) runtime.log.info("policies reloaded");
      else runtime.log.error({ problems }, "policies not reloaded: the files have problems; the previous ones stay");
    };
    process.on("SIGHUP", reload);
    await new Promise<void>((resolve) => {
      const stop = (signal: NodeJS.Signals) => {
        runtime.log.info({ signal }, "shutting down");
        process.off("SIGTERM", stop);
        process.off("SIGINT", stop);
        resolve();
      };
      process.on("SIGTERM", stop);
      process.on("SIGINT", stop);
    });
    process.off("SIGHUP", reload);
    stopSchedule();
    await server.close();
    await gateway.close();
    await runtime.close();
    return 0;
  },
};
