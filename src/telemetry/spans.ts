import {
  type Attributes,
  type Context,
  context,
  INVALID_SPAN_CONTEXT,
  propagation,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from "@opentelemetry/api";

/** Archway's tracer: a no-op until {@link startTracing} registered a provider. */
function tracer() {
  return trace.getTracer("archway");
}

/**
 * Runs `fn` inside a span named `name` (a child of the active one), ending it when `fn` settles and recording a
 * failure. Without a registered provider this is a function call and nothing more.
 */
export async function inSpan<T>(
  name: string,
  attributes: Attributes,
  fn: (span: Span) => Promise<T>,
  kind: SpanKind = SpanKind.INTERNAL,
): Promise<T> {
  return tracer().startActiveSpan(name, { kind, attributes }, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      span.recordException(err as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
      throw err;
    } finally {
      span.end();
    }
  });
}

/** Whether {@link startTracing} registered a provider: until then a client span is skipped outright. */
let tracing = false;
/** The span a skipped client span hands its function: records nothing. */
const NO_SPAN = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/** Tells the span helpers whether traces are exported (set by startTracing, cleared by its shutdown). */
export function setTracing(on: boolean): void {
  tracing = on;
}

/**
 * A call to a cloud (Keystone, Nova): a client span. Without tracing, `fn` runs as is: a sync makes tens of
 * thousands of calls, and the no-op tracer's context switch, closures and attribute object per call were garbage.
 */
export function clientSpan<T>(name: string, attributes: Attributes, fn: (span: Span) => Promise<T>): Promise<T> {
  if (!tracing) return fn(NO_SPAN);
  return inSpan(name, attributes, fn, SpanKind.CLIENT);
}

/** A request's server span, its parent taken from an incoming `traceparent`; run the handler in `context`. */
export function startServerSpan(
  method: string,
  header: (name: string) => string | undefined,
): { span: Span; context: Context } {
  const parent = propagation.extract(context.active(), undefined, {
    get: (_carrier, key) => header(key.toLowerCase()),
    keys: () => [],
  });
  const span = tracer().startSpan(
    method,
    { kind: SpanKind.SERVER, attributes: { "http.request.method": method } },
    parent,
  );
  return { span, context: trace.setSpan(parent, span) };
}

/** Ends a server span with the matched route (never the raw path) and the status. */
export function endServerSpan(span: Span, method: string, route: string, status: number): void {
  span.updateName(`${method} ${route}`);
  span.setAttribute("http.route", route);
  span.setAttribute("http.response.status_code", status);
  if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
  span.end();
}

/** Runs `fn` with `ctx` as the active context (its awaits included). */
export function withContext<T>(ctx: Context, fn: () => T): T {
  return context.with(ctx, fn);
}
