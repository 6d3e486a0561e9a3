import { Readable } from "node:stream";
import { Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { Agent, request } from "undici";
import { type ArchwayError, isArchwayError } from "../errors.js";
import type { CloudBreakers } from "../openstack/index.js";
import { projectInCloud, type TokenBroker } from "../tokens/index.js";
import { type AppEnv, requestHeader } from "./env.js";
import { type FacadeDeps, facadeCaller, keystoneStoreUnavailable } from "./keystone/caller.js";
import type { CloudCatalogs } from "./keystone/catalog.js";
import { keystoneError } from "./keystone/shapes.js";
import { forwardableHeaders } from "./proxy-headers.js";

const REWRITE_LIMIT = 1024 * 1024;
const STALE_SOCKET = new Set(["ECONNRESET", "EPIPE", "UND_ERR_SOCKET", "UND_ERR_CLOSED"]);

/** What the proxy needs. */
export interface ProxyDeps extends Pick<FacadeDeps, "tokens" | "sessions" | "policies" | "publicUrl" | "audit"> {
  catalogs: Pick<CloudCatalogs, "cloud" | "services">;
  broker: Pick<TokenBroker, "projectToken">;
  timeoutMs?: number;
  /** The process's per-cloud breakers: a cloud known down is answered 503 at once, with `Retry-After`. */
  breakers?: CloudBreakers;
}

/**
 * `/clouds/{cloud}/{service-type}/{path}` -> that cloud's endpoint from its catalog. The Archway token is swapped
 * for the person's Keystone token of the right project; bodies stream; hop-by-hop headers, headers `Connection`
 * names, incoming tokens and forwarding claims are dropped, however spelt (see {@link forwardableHeaders}); no
 * path leaves the service; only catalog hosts are reachable; links and `Location` in replies point back through
 * the proxy; failures name the cloud.
 */
export function cloudProxy(deps: ProxyDeps) {
  const app = new Hono<AppEnv>();
  const agent = new Agent({ keepAliveTimeout: 4_000, connections: 128 });
  const timeoutMs = deps.timeoutMs ?? 60_000;
  const fail = (status: ContentfulStatusCode, message: string, retryAfter?: number) =>
    new Response(JSON.stringify(keystoneError(status, message)), {
      status,
      headers: { "content-type": "application/json", ...(retryAfter ? { "retry-after": String(retryAfter) } : {}) },
    });
  // A cloud whose circuit is open: 503 at once, naming the cloud, instead of waiting on it.
  const refused = (b: ReturnType<CloudBreakers["get"]>) => {
    const err = b.refusal("proxy");
    return fail(503, err.message, err.retryAfterSeconds);
  };

  app.all("/clouds/:cloud/:service/*", async (c) => {
    const cloudId = c.req.param("cloud");
    const service = c.req.param("service");
    let caller: Awaited<ReturnType<typeof facadeCaller>>;
    try {
      caller = await facadeCaller(deps, requestHeader(c, "x-auth-token"));
    } catch (err) {
      return keystoneStoreUnavailable(err) ?? fail(401, (err as Error).message);
    }
    // The token acts only as the project it names, and only in that project's regions (docs/tokens.md): an
    // unscoped token reaches no cloud, as Keystone's own services refuse one.
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
      return fail(503, `cloud ${cloudId} is unavailable: its catalog has not been read yet`, 5);
    if (!real) return fail(404, `cloud ${cloudId} has no ${service} service`);

    const prefix = `/clouds/${cloudId}/${service}`;
    const rawPath = new URL(c.req.url).pathname;
    const rest = rawPath.slice(rawPath.indexOf(prefix) + prefix.length) || "/";
    const target = safeTarget(real, rest);
    if (!target) return fail(400, "the path leaves the service");
    target.search = new URL(c.req.url).search;

    let keystoneToken: string;
    try {
      keystoneToken = (await deps.broker.projectToken(caller.identity, project)).token;
    } catch (err) {
      const status = (isArchwayError(err) ? err.status : 503) as ContentfulStatusCode;
      const retryAfter = (err as { retryAfterSeconds?: number }).retryAfterSeconds;
      return fail(status, isArchwayError(err) ? err.message : `cloud ${cloudId}: Keystone did not answer`, retryAfter);
    }
    if (breaker && !breaker.admit()) return refused(breaker);

    const headers: Record<string, string> = Object.fromEntries(forwardableHeaders(c.req.raw.headers.entries()));
    headers["x-auth-token"] = keystoneToken;
    const hasBody = !["GET", "HEAD"].includes(c.req.method) && c.req.raw.body !== null;
    const upload = hasBody && c.req.raw.body ? clientBody(c.req.raw.body) : undefined;
    const send = () =>
      request(target, {
        method: c.req.method as "GET",
        headers,
        body: upload?.stream,
        dispatcher: agent,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
    let upstream: Awaited<ReturnType<typeof request>>;
    try {
      try {
        upstream = await send();
      } catch (err) {
        // A pooled keep-alive socket the cloud closed meanwhile: a bodyless request can go again on a new one.
        if (hasBody || !STALE_SOCKET.has((err as { code?: string }).code ?? "")) throw err;
        upstream = await send();
      }
    } catch (err) {
      // The client's own body went over the limit while it streamed to the cloud: the client's error, not the cloud's.
      const cause = (err as { cause?: unknown }).cause;
      const code = (err as { code?: string }).code ?? "";
      if (!isArchwayError(err) && !isArchwayError(cause)) breaker?.failure(`${service}: ${code || "no reply"}`);
      // A cloud that answers early (nova's own size limit) and closes while the body still streams breaks the pipe
      // first: read what is left of the client's body, which says whether it was over Archway's limit anyway.
      const own = isArchwayError(err)
        ? err
        : isArchwayError(cause)
          ? cause
          : await upload?.overLimit(STALE_SOCKET.has(code));
      if (own) return fail(own.status as ContentfulStatusCode, own.message);
      if (code.includes("TIMEOUT"))
        return fail(504, `cloud ${cloudId}: ${service} did not answer in ${Math.round(timeoutMs / 1000)} s`);
      // Nothing listening, or the connection dropped: the cloud (or this service of it) is down, which is temporary.
      if (code === "ECONNREFUSED" || STALE_SOCKET.has(code))
        return fail(503, `cloud ${cloudId} is unavailable: ${service} did not accept the connection (${code})`);
      return fail(502, `cloud ${cloudId}: ${service} failed (${code || (err as Error).message})`);
    }

    if (upstream.statusCode >= 500) breaker?.failure(`${service}: HTTP ${upstream.statusCode}`);
    else breaker?.success();
    const realOrigin = new URL(real).origin;
    const proxiedBase = `${deps.publicUrl}/clouds/${cloudId}/${service}`;
    const out = new Headers();
    for (const [name, value] of forwardableHeaders(Object.entries(upstream.headers))) out.append(name, value);
    const location = out.get("location");
    if (location) {
      const rewritten = rewriteLocation(location, target, realOrigin, proxiedBase);
      if (rewritten) out.set("location", rewritten);
      else out.delete("location"); // pointing off the catalog: never hand the client a redirect elsewhere
    }
    if ([204, 304].includes(upstream.statusCode) || c.req.method === "HEAD") {
      await upstream.body.dump();
      return new Response(null, { status: upstream.statusCode, headers: out });
    }
    if ((out.get("content-type") ?? "").includes("json")) {
      // JSON small enough is rewritten so that links point back through the proxy; anything larger streams as is.
      const { head, rest } = await readUpTo(upstream.body, REWRITE_LIMIT);
      if (!rest) {
        out.delete("content-length"); // the rewritten body has its own length
        return new Response(Buffer.concat(head).toString("utf8").split(realOrigin).join(proxiedBase), {
          status: upstream.statusCode,
          headers: out,
        });
      }
      return new Response(streamOf(prepend(head, rest)), { status: upstream.statusCode, headers: out });
    }
    return new Response(streamOf(upstream.body), { status: upstream.statusCode, headers: out });
  });
  return app;
}

/**
 * The client's body as the stream sent to the cloud, with what reading it found: `overLimit` resolves to the
 * body-limit error when reading went past the limit, or, asked to `drain`, after reading the rest the cloud did
 * not take (bounded by the limit itself and the server's request timeout).
 */
function clientBody(body: ReadableStream<Uint8Array>) {
  const reader = body.getReader();
  let failed: unknown;
  const read = async () => {
    try {
      return await reader.read();
    } catch (err) {
      failed = err;
      throw err;
    }
  };
  async function* chunks(): AsyncIterable<Uint8Array> {
    for (;;) {
      const { done, value } = await read();
      if (done) return;
      yield value;
    }
  }
  return {
    stream: Readable.from(chunks(), { objectMode: false }),
    async overLimit(drain: boolean): Promise<ArchwayError | undefined> {
      if (drain && failed === undefined) {
        try {
          while (!(await read()).done) {}
        } catch {
          // recorded in `failed`
        }
      }
      return isArchwayError(failed) ? failed : undefined;
    },
  };
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

function rewriteLocation(location: string, target: URL, realOrigin: string, proxiedBase: string): string | null {
  let url: URL;
  try {
    url = new URL(location, target);
  } catch {
    return null;
  }
  if (url.origin !== realOrigin) return null;
  return `${proxiedBase}${url.pathname}${url.search}`;
}

/** Reads up to `limit` bytes; `rest` is the unread remainder when the body is longer. */
async function readUpTo(
  body: AsyncIterable<Uint8Array>,
  limit: number,
): Promise<{ head: Buffer[]; rest?: AsyncIterator<Uint8Array> }> {
  const iterator = body[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let size = 0;
  for (;;) {
    const { value, done } = await iterator.next();
    if (done) return { head };
    head.push(Buffer.from(value));
    size += value.length;
    if (size > limit) return { head, rest: iterator };
  }
}

async function* prepend(head: Buffer[], rest: AsyncIterator<Uint8Array>): AsyncIterable<Uint8Array> {
  yield* head;
  for (;;) {
    const { value, done } = await rest.next();
    if (done) return;
    yield value;
  }
}

function streamOf(body: AsyncIterable<Uint8Array>): ReadableStream<Uint8Array> {
  const iterator = body[Symbol.asyncIterator]();
  return new ReadableStream({
    async pull(controller) {
      const { value, done } = await iterator.next();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    async cancel() {
      await iterator.return?.();
    },
  });
}
