/**
 * OpenTelemetry traces, off by default: {@link startTracing} exports over OTLP/HTTP when configured; the span helpers
 * open spans across the facade, the broker, the calls to the clouds and sync runs (no-ops while tracing is off).
 */
export { clientSpan, endServerSpan, inSpan, startServerSpan, withContext } from "./spans.js";
export { startTracing, type Tracing } from "./tracing.js";
