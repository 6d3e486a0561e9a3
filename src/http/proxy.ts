import { type Context, Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { request } from "undici";
import { type ArchwayError, isArchwayError, retryAfterOf } from "../errors.js";
import type { ArchwayMetrics } from "../metrics/index.js";
import type { CloudBreakers } from "../openstack/index.js";
import { projectInCloud, type TokenBroker } from "../tokens/index.js";
import { type AppEnv, noteRequest, requestHeader } from "./env.js";
import { type FacadeDeps, facadeCaller, keystoneStoreUnavailable } from "./keystone/caller.js";
import type { CloudCatalogs } from "./keystone/catalog.js";
import { keystoneError } from "./keystone/shapes.js";
import { answerFrom } from "./proxy/answer.js";
import type { Release } from "./proxy/gate.js";
import { UpstreamPools } from "./proxy/pools.js";
import { withCloudProjectPath, withCloudProjectQuery } from "./proxy/project-ids.js";
import { cloudProjectBody, isJsonBody } from "./proxy/request-body.js";
import { clientBody } from "./proxy/streams.js";
import { forwardableHeaders } from "./proxy-headers.js";

const STALE_SOCKET = new Set(["ECONNRESET", "EPIPE", "UND_ERR_SOCKET", "UND_ERR_CLOSED"]);

/** What the proxy needs. */
export interface ProxyDeps extends Pick<FacadeDeps, "tokens" | "sessions" | "policies" | "publicUrl" | "audit"> {
  catalogs: Pick<CloudCatalogs, "cloud" | "services">;
  broker: Pick<TokenBroker, "projectToken">;
  /** Per-cloud connection pools and gates; default: the proxy's own (pass one to close it at shutdown). */
  pools?: UpstreamPools;
  /** Replaces every cloud's `timeoutMs` for proxied requests (tests); ignored when `pools` is given. */
  timeoutMs?: number;
  /** The process's per-cloud breakers: a cloud known down is answered 503 at once, with `Retry-After`. */
  breakers?: CloudBreakers;
  /** Counts answers by cloud (`archway_proxy_requests_total`) and times the upstream exchange. */
  metrics?: Pick<ArchwayMetrics, "proxyRequest" | "upstream">;
}

/**
 * `/clouds/{cloud}/{service-type}/{path}` -> that cloud's endpoint from its catalog. The Archway token is swapped
 * for the person's Keystone token of the right project; bodies stream; hop-by-hop headers, headers `Connection`
 * names, incoming tokens and forwarding claims are dropped, however spelt (see {@link forwardableHeaders}); no
 * path leaves the service; only catalog hosts are reachable; links and `Location` in replies point back through
 * the proxy; failures name the cloud.
 *
 * Each cloud has its own pool and gate (see {@link UpstreamPools}): at most `proxy.maxConnections` exchanges at
 * once, a bounded wait for one, the cloud's `timeoutMs` for its headers and between body chunks. A client that goes
 * away aborts its upstream request, which frees the socket and the slot.
 */
export function cloudProxy(deps: ProxyDeps) {
  const app = new Hono<AppEnv>();
  const pools = deps.pools ?? new UpstreamPools({ timeoutMs: deps.timeoutMs });
  const fail = (status: ContentfulStatusCode, message: string, retryAfter?: string, code?: string) =>
    new Response(
      JSON.stringify(
        code
          ? { error: { ...keystoneError(status, message).error, identifier: code } }
          : keystoneError(status, message),
      ),
      {
        status,
        headers: { "content-type": "application/json", ...(retryAfter ? { "retry-after": retryAfter } : {}) },
      },
    );
  /** A refusal that says when to come back, its Archway code riding along as `identifier` (as for a store outage). */
  const refuse = (err: ArchwayError) =>
    fail(
      err.status as ContentfulStatusCode,
      err.message,
      retryAfterFor(err),
      retryAfterFor(err) ? err.code : undefined,
    );
  // Nobody reads it: the client left. 499 is what the access log shows (nginx's "client closed request").
  const clientGone = () => new Response(null, { status: 499 });
  // A cloud whose circuit is open: 503 at once, naming the cloud, instead of waiting on it.
  const refused = (b: ReturnType<CloudBreakers["get"]>) => refuse(b.refusal("proxy"));

  app.all("/clouds/:cloud/:service/*", async (c) => {
    const res = await forward(c);
    deps.metrics?.proxyRequest(c.req.param("cloud"), res.status);
    return res;
  });

  const forward = async (c: Context<AppEnv, "/clouds/:cloud/:service/*">): Promise<Response> => {
    const cloudId = c.req.param("cloud");
    const service = c.req.param("service");
    noteRequest(c, { cloud: cloudId });
    let caller: Awaited<ReturnType<typeof facadeCaller>>;
    try {
      caller = await facadeCaller(deps, requestHeader(c, "x-auth-token"));
    } catch (err) {
      return keystoneStoreUnavailable(err) ?? fail(401, (err as Error).message);
    }
    // The token acts only as the project it names, and only in that project's regions (docs/tokens.md): an
    // unscoped token reaches no cloud, as Keystone's own services refuse one.
    noteRequest(c, { person: caller.identity.id });
    if (!caller.scoped)
      return fail(403, "an unscoped token reaches no cloud: scope it to a project (e.g. --os-project-name)");
    const cloud = deps.catalogs.cloud(cloudId);
    const project = cloud && projectInCloud(caller.scoped, cloudId);
    if (!cloud || !project)
      return fail(403, `this token is scoped to project ${caller.scoped.name}, which has no region ${cloudId}`);
    const breaker = deps.breakers?.get(cloudId);
    if (breaker && breaker.refusedForMs() > 0) return refused(breaker);
    const services = await deps.catalogs.services(cloudId);
    const real = services.get(service);
    if (!real && services.size === 0)
      return fail(503, `cloud ${cloudId} is unavailable: its catalog has not been read yet`, "5");
    if (!real) return fail(404, `cloud ${cloudId} has no ${service} service`);

    const prefix = `/clouds/${cloudId}/${service}`;
    const requested = new URL(c.req.url);
    const rawPath = requested.pathname;
    const rest = rawPath.slice(rawPath.indexOf(prefix) + prefix.length) || "/";
    // Refused before any login: a path that leaves the service as sent.
    if (!safeTarget(real, rest)) return fail(400, "the path leaves the service");

    let keystoneToken: string;
    let cloudProjectId: string | undefined;
    try {
      ({ token: keystoneToken, projectId: cloudProjectId } = await deps.broker.projectToken(caller.identity, project));
    } catch (err) {
      // A just-in-time provisioning that outlasted the cloud's provisionWaitMs answers 503 with Retry-After.
      return isArchwayError(err) ? refuse(err) : fail(503, `cloud ${cloudId}: Keystone did not answer`);
    }
    // The facade's ids of this project (the project's and its single-region alias's) become its id in this cloud;
    // the same checks hold for the path that results.
    const facadeIds = [caller.scoped.id, project.id];
    const target = safeTarget(real, withCloudProjectPath(rest, facadeIds, cloudProjectId));
    if (!target) return fail(400, "the path leaves the service");
    target.search = withCloudProjectQuery(requested.search, facadeIds, cloudProjectId);

    if (breaker && !breaker.admit()) return refused(breaker);

    // The client's request signal aborts when its connection closes before the answer is written.
    const signal = c.req.raw.signal;
    const upstreamOf = pools.of(cloud);
    let release: Release;
    try {
      release = await pools.slot(cloud, signal);
    } catch (err) {
      if (signal.aborted) return clientGone();
      if (!isArchwayError(err)) throw err;
      return refuse(err);
    }
    let released = false;
    const done = () => {
      if (released) return;
      released = true;
      signal.removeEventListener("abort", done);
      release();
    };
    signal.addEventListener("abort", done, { once: true });
    const { timeoutMs } = upstreamOf;

    const headers: Record<string, string> = Object.fromEntries(forwardableHeaders(c.req.raw.headers.entries()));
    headers["x-auth-token"] = keystoneToken;
    const hasBody = !["GET", "HEAD"].includes(c.req.method) && c.req.raw.body !== null;
    // A JSON body may name the project too (`network create --project <id>`): read whole and mapped like the path.
    let json: Buffer | undefined;
    if (hasBody && c.req.raw.body && isJsonBody(headers["content-type"])) {
      try {
        json = await cloudProjectBody(c.req.raw.body, headers, facadeIds, cloudProjectId);
      } catch (err) {
        done();
        if (signal.aborted) return clientGone();
        if (isArchwayError(err)) return fail(err.status as ContentfulStatusCode, err.message);
        throw err;
      }
    }
    const upload = hasBody && c.req.raw.body && !json ? clientBody(c.req.raw.body) : undefined;
    const send = () =>
      request(target, {
        method: c.req.method as "GET",
        headers,
        body: json ?? upload?.stream,
        dispatcher: upstreamOf.agent,
        signal,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
    let upstream: Awaited<ReturnType<typeof request>>;
    const sent = performance.now();
    try {
      try {
        upstream = await send();
      } catch (err) {
        // A pooled keep-alive socket the cloud closed meanwhile: a bodyless request can go again on a new one.
        if (hasBody || !STALE_SOCKET.has((err as { code?: string }).code ?? "")) throw err;
        upstream = await send();
      }
    } catch (err) {
      done();
      if (signal.aborted) return clientGone();
      // The client's own body went over the limit while it streamed to the cloud: the client's error, not the cloud's.
      const cause = (err as { cause?: unknown }).cause;
      const code = (err as { code?: string }).code ?? "";
      // A cloud that answers early (nova's own size limit) and closes while the body still streams breaks the pipe
      // first: read what is left of the client's body, which says whether it was over Archway's limit anyway.
      const own = isArchwayError(err)
        ? err
        : isArchwayError(cause)
          ? cause
          : await upload?.overLimit(STALE_SOCKET.has(code));
      if (own) return fail(own.status as ContentfulStatusCode, own.message);
      // The cloud's fault (no reply, refused, dropped): the breaker counts it. The client leaving or its own body
      // going over the limit (above) are not the cloud's.
      breaker?.failure(`${service}: ${code || "no reply"}`);
      if (code.includes("TIMEOUT"))
        return fail(504, `cloud ${cloudId}: ${service} did not answer in ${timeoutMs / 1000} s`);
      // Nothing listening, or the connection dropped: the cloud (or this service of it) is down, which is temporary.
      if (code === "ECONNREFUSED" || STALE_SOCKET.has(code))
        return fail(503, `cloud ${cloudId} is unavailable: ${service} did not accept the connection (${code})`);
      return fail(502, `cloud ${cloudId}: ${service} failed (${code || (err as Error).message})`);
    }

    // Until the headers came: the body streams to the client afterwards, at the client's pace.
    deps.metrics?.upstream(cloudId, service, c.req.method, upstream.statusCode, (performance.now() - sent) / 1000);
    if (upstream.statusCode >= 500) breaker?.failure(`${service}: HTTP ${upstream.statusCode}`);
    else breaker?.success();
    try {
      return await answerFrom(upstream, {
        method: c.req.method,
        target,
        realOrigin: new URL(real).origin,
        proxiedBase: `${deps.publicUrl}/clouds/${cloudId}/${service}`,
        done,
      });
    } catch (err) {
      // The cloud's body failed or stalled past timeoutMs before the answer started: the exchange is over.
      done();
      if (signal.aborted) return clientGone();
      throw err;
    }
  };
  return app;
}

/**
 * `Retry-After` for a refusal that says when to come back: a saturated cloud, a provisioning under way (their
 * `retryAfterSeconds`), a store outage.
 */
function retryAfterFor(err: unknown): string | undefined {
  const seconds = (err as { retryAfterSeconds?: unknown } | undefined)?.retryAfterSeconds;
  return typeof seconds === "number" ? String(seconds) : retryAfterOf(err);
}

/**
 * The real URL for a proxied remainder, or null when it would leave the service: `..` segments in any encoding,
 * encoded slashes or backslashes, or a path outside the endpoint's first path segment (the root `/` stays allowed
 * for version discovery).
 */
export function safeTarget(endpoint: string, rest: string): URL | null {
  if (/%2f|%5c|\\/i.test(rest)) return null;
  let decoded: string;
  try {
    decoded = decodeURIComponent(rest);
  } catch {
    return null;
  }
  const segments = decoded.split("/");
  if (segments.some((s) => s === ".." || s === ".")) return null;
  const base = new URL(endpoint);
  const first = base.pathname.split("/").filter(Boolean)[0];
  const restFirst = rest.split("/").filter(Boolean)[0];
  if (restFirst !== undefined && first !== undefined && restFirst !== first) return null;
  const target = new URL(base.origin);
  target.pathname = rest;
  return target.origin === base.origin ? target : null;
}
