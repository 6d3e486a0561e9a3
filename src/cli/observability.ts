import { parseListenAddress } from "../config/index.js";
import { createMetricsApp, type RunningServer, startServer } from "../http/index.js";
import { startTracing, type Tracing } from "../telemetry/index.js";
import type { CliIO } from "./command.js";
import type { Runtime } from "./runtime.js";

/** What `serve` and `worker` start beside their work: the metrics listener and the trace exporter. */
export interface Observability {
  /** The metrics listener's URL, when `metrics.listen` is set. */
  metricsUrl?: string;
  /** Stops the listener and sends the spans still buffered. */
  close(): Promise<void>;
}

/**
 * Starts the metrics listener (`metrics.listen`: `/metrics`, the detailed `/readyz`, `/healthz`) and OpenTelemetry
 * trace export (`telemetry.otlpEndpoint`), each only when configured.
 */
export async function startObservability(runtime: Runtime, io: CliIO): Promise<Observability> {
  const { config } = runtime.loaded;
  const tracing: Tracing | undefined = startTracing(config.telemetry, { log: runtime.log });
  let listener: RunningServer | undefined;
  if (config.metrics.listen) {
    const { host, port } = parseListenAddress(config.metrics.listen);
    try {
      listener = await startServer(
        createMetricsApp({ store: runtime.store, sources: runtime.sources, metrics: runtime.metrics }),
        { host, port, log: runtime.log },
      );
    } catch (err) {
      await tracing?.shutdown();
      throw err;
    }
    runtime.log.info({ url: listener.url }, "metrics listening");
    io.out(`Archway metrics on ${listener.url}/metrics`);
  }
  return {
    ...(listener ? { metricsUrl: listener.url } : {}),
    async close() {
      await Promise.allSettled([listener?.close(1_000), tracing?.shutdown()]);
    },
  };
}
