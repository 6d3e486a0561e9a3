import type { Hono } from "hono";
import { isArchwayError, retryAfterOf } from "../../errors.js";
import { type Logger, runInRequest } from "../../log/index.js";
import { endServerSpan, startServerSpan, withContext } from "../../telemetry/index.js";
import { type AppEnv, headerOf, type RequestHeaders, type RequestInfo } from "../env.js";
import { toErrorResponse } from "../errors.js";
import { GatewayResponse } from "../response.js";
import { limitBody } from "./body-limit.js";
import { ClientAddresses } from "./client-address.js";
import type { HttpMetrics } from "./metrics.js";
import { requestIds } from "./request-id.js";

// An incoming id is kept only when it is short and plain, so it cannot inject into logs or headers.
const SAFE_ID = /^[A-Za-z0-9._:-]{1,64}$/;
// Probes are polled every few seconds by orchestrators; logging each at info would drown real traffic.
const QUIET = new Set(["/healthz", "/readyz", "/metrics"]);

interface ObserveDeps {
  log: Logger;
  metrics: HttpMetrics;
  /** Plain addresses and CIDR ranges (IPv4, IPv6) whose X-Forwarded-For is believed. */
  trustedProxies: readonly string[];
  bodyLimitBytes: number;
  /** A server span per request (OpenTelemetry), parent from `traceparent`; only when tracing is configured. */
  tracing?: boolean;
}

type Bindings = Partial<AppEnv["Bindings"]>;

/**
 * Puts the one observing layer in front of every route by wrapping `app.fetch` (so `app.request` in tests goes
 * through it too): request id (a safe incoming `X-Request-Id` is kept), client address, body limit, the duration
 * histogram and one access-log line, naming the person and the cloud when a route noted them (`noteRequest`). The
 * routes run inside the request's scope, so audit events carry its id, and with tracing on inside a server span.
 * What routes need of it they read from `c.env.requestInfo` (see {@link RequestInfo}). It wraps the app rather than being a Hono middleware because a middleware turns every
 * request into a composed chain of promises, which costs more than everything else a health probe does.
 */
export function observeFetch(app: Hono<AppEnv>, deps: ObserveDeps): void {
  const routed = app.fetch;
  const addresses = new ClientAddresses(deps.trustedProxies);
  const routeOf = routeLabeler(app);
  const newId = requestIds();
  app.fetch = (request, env?: Bindings, executionCtx?) => {
    const start = performance.now();
    const bindings: Bindings = env ?? {};
    const incoming = bindings.incoming;
    const headers: RequestHeaders = incoming ? incoming.headers : request.headers;
    const offered = headerOf(headers, "x-request-id");
    const id = offered && SAFE_ID.test(offered) ? offered : newId();
    const clientIp = addresses.resolve(incoming?.socket?.remoteAddress, headers);
    const info: RequestInfo = { id, clientIp, rootLog: deps.log };
    bindings.requestInfo = info;
    const outgoing = bindings.outgoing;
    // On the Node response directly: a route answering with one Content-Type then keeps @hono/node-server on
    // its fast path. Without Node (tests), the header is added to the returned Response.
    if (outgoing instanceof GatewayResponse) outgoing.presetHeader("x-request-id", id);
    else outgoing?.setHeader("X-Request-Id", id);

    const path = pathOf(incoming?.url) ?? app.getPath(request, { env: bindings as AppEnv["Bindings"] });
    const quiet = QUIET.has(path);
    const traced =
      deps.tracing && !quiet
        ? startServerSpan(request.method, (name) => headerOf(headers, name as Lowercase<string>))
        : undefined;

    const finish = (res: Response): Response => {
      const ms = performance.now() - start;
      const route = routeOf(request.method, path);
      deps.metrics.requestDuration.observe(request.method, route, res.status, ms / 1000);
      if (traced) endServerSpan(traced.span, request.method, route, res.status);
      const level = quiet ? "debug" : "info";
      if (deps.log.isLevelEnabled(level)) {
        const line: Record<string, unknown> = {
          requestId: id,
          method: request.method,
          path,
          status: res.status,
          ms: Math.round(ms * 10) / 10,
          ip: clientIp,
        };
        // Who and where, once a route knew (facade, proxy, token endpoints): an identity id, never a password.
        if (info.person !== undefined) line.person = info.person;
        if (info.cloud !== undefined) line.cloud = info.cloud;
        deps.log[level](line, "request");
      }
      return outgoing ? res : withHeader(res, "X-Request-Id", id);
    };
    let checked: Request;
    try {
      checked = limitBody(request, headers, deps.bodyLimitBytes, incoming !== undefined);
    } catch (err) {
      return finish(refusal(err, id, deps.log));
    }
    // Probes skip the request scope: an AsyncLocalStorage run is a measurable share of a health check, and they
    // audit nothing.
    const run = () => routed(checked, bindings, executionCtx);
    const scoped = quiet ? run : () => runInRequest(info, run);
    const res = traced ? withContext(traced.context, scoped) : scoped();
    // The rejection handler is created only for an answer still pending: most routes answer synchronously.
    return res instanceof Promise
      ? res.then(finish, (err: unknown) => finish(refusal(err, id, deps.log)))
      : finish(res);
  };
}

/** The answer to a request that failed before or outside the routes' own error handling. */
function refusal(err: unknown, id: string, log: Logger): Response {
  const { status, body } = toErrorResponse(err, id);
  if (!isArchwayError(err)) log.error({ requestId: id, err: (err as Error).message }, "request failed");
  const headers: Record<string, string> = { "content-type": "application/json; charset=UTF-8" };
  const retryAfter = retryAfterOf(err);
  if (retryAfter !== undefined) headers["retry-after"] = retryAfter;
  return new Response(JSON.stringify(body), { status, headers });
}

/**
 * The metrics label of a request: the pattern of the route that answers (`/clouds/:cloud/:service/*`), never
 * the raw path, so label cardinality stays bounded whatever clients send. Matched again after the answer (one
 * regular-expression match) because only a middleware inside Hono could see the route it took.
 */
function routeLabeler(app: Hono<AppEnv>): (method: string, path: string) => string {
  // Paths that a route names exactly (`/healthz`), by method: looked up instead of matched again. Only those are
  // kept, so the map is as small as the route table whatever paths clients send.
  const exact = new Map<string, Map<string, string>>();
  return (method, path) => {
    const known = exact.get(method)?.get(path);
    if (known !== undefined) return known;
    const [matched] = app.router.match(method === "HEAD" ? "GET" : method, path);
    // Middleware (`use`) comes first and the handler that answers last; a path only middleware covers is still
    // labelled by that middleware's pattern, which is just as bounded.
    let label = "unmatched";
    for (const [[, route]] of matched) {
      if (route.method !== "ALL" || label === "unmatched") label = route.path;
    }
    if (label === path) {
      let byPath = exact.get(method);
      if (!byPath) {
        byPath = new Map();
        exact.set(method, byPath);
      }
      byPath.set(path, label);
    }
    return label;
  };
}

/**
 * The path of a Node request target that neither URL parsing nor decoding would change (no `%`, no dot segment,
 * no backslash): what Hono's `getPath` returns, without reading the request's full URL. Undefined otherwise
 * (Hono's own function then decides).
 */
function pathOf(url: string | undefined): string | undefined {
  if (url === undefined || url[0] !== "/" || /%|\/\.|\\/.test(url)) return undefined;
  const end = url.search(/[?#]/);
  return end < 0 ? url : url.slice(0, end);
}

function withHeader(res: Response, name: string, value: string): Response {
  try {
    res.headers.set(name, value);
    return res;
  } catch {
    // Immutable headers (a fetched or redirect Response): answer with a copy.
    const copy = new Response(res.body, res);
    copy.headers.set(name, value);
    return copy;
  }
}
