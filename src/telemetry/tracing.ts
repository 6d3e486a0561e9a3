import { trace } from "@opentelemetry/api";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  BatchSpanProcessor,
  NodeTracerProvider,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
} from "@opentelemetry/sdk-trace-node";
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from "@opentelemetry/semantic-conventions";
import type { TelemetryConfig } from "../config/index.js";
import type { Logger } from "../log/index.js";
import { setTracing } from "./spans.js";

/** Traces being exported; `shutdown` sends what is buffered and stops. */
export interface Tracing {
  shutdown(): Promise<void>;
}

/**
 * Starts exporting traces over OTLP/HTTP when `telemetry.otlpEndpoint` is set, else does nothing (the spans
 * Archway opens then cost a no-op call). Registers the provider and its AsyncLocalStorage context manager with the
 * OpenTelemetry API, once per process: the API is process-wide by design, as every instrumentation expects.
 */
export function startTracing(
  config: TelemetryConfig,
  opts: { log?: Pick<Logger, "info" | "warn">; version?: string } = {},
): Tracing | undefined {
  if (!config.otlpEndpoint) return undefined;
  const exporter = new OTLPTraceExporter({ url: config.otlpEndpoint, timeoutMillis: 5_000 });
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: config.serviceName,
      ...(opts.version ? { [ATTR_SERVICE_VERSION]: opts.version } : {}),
    }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(config.sampleRatio) }),
    // Batched, bounded: a collector that is down costs dropped spans, never memory or request time.
    spanProcessors: [
      new BatchSpanProcessor(exporter, { maxQueueSize: 2048, scheduledDelayMillis: 1_000, exportTimeoutMillis: 5_000 }),
    ],
  });
  provider.register();
  setTracing(true);
  opts.log?.info({ endpoint: config.otlpEndpoint, serviceName: config.serviceName }, "exporting traces over OTLP");
  return {
    async shutdown() {
      await provider
        .shutdown()
        .catch((err: unknown) => opts.log?.warn({ err: (err as Error).message }, "trace export"));
      trace.disable();
      setTracing(false);
    },
  };
}
