import type { IncomingHttpHeaders, IncomingMessage } from "node:http";
import type { HttpBindings } from "@hono/node-server";
import type { Context } from "hono";
import { pino } from "pino";
import type { Logger } from "../log/index.js";
import { GatewayResponse } from "./response.js";

/** What the observing layer in front of every route (`middleware/observe.ts`) learned about a request. */
export interface RequestInfo {
  /** The request id: a safe incoming `X-Request-Id`, else a new one (see `requestIds`). */
  readonly id: string;
  /** The client's address (from the socket, or X-Forwarded-For when the peer is a trusted proxy). */
  readonly clientIp: string;
  /** The process logger; use {@link requestLog} to get one bound to the request id. */
  readonly rootLog: Logger;
  /** Memoized by {@link requestLog}. */
  log?: Logger;
  /** Who the request acts for (an identity id, else the username given), once a route knows: the access log. */
  person?: string;
  /** The cloud the request concerns, once a route knows: the access log. */
  cloud?: string;
}

/**
 * Hono environment shared by every route: Node's request and response, plus what the observing layer learned
 * (absent only in a Hono app built without `createApp`).
 */
export interface AppEnv {
  Bindings: HttpBindings & { requestInfo?: RequestInfo };
}

/** Logs nothing: for an app that runs without the observing layer (a bare sub-app in a test). */
const SILENT: Logger = pino({ level: "silent" }, { write() {} });

/** Any route's context (the web pages add variables of their own): only its bindings are read. */
type AnyContext = Pick<Context, "env">;

function infoOf(c: AnyContext): RequestInfo | undefined {
  return (c.env as Partial<AppEnv["Bindings"]> | undefined)?.requestInfo;
}

/** The request id, when the observing layer saw the request. */
export function requestId(c: AnyContext): string | undefined {
  return infoOf(c)?.id;
}

/** The client's address (see {@link RequestInfo.clientIp}); "unknown" without the observing layer. */
export function clientIp(c: AnyContext): string {
  return infoOf(c)?.clientIp ?? "unknown";
}

/**
 * Notes who a request acts for and which cloud it concerns, for its access-log line. An identity id (or the
 * username a login named), never a password or token.
 */
export function noteRequest(c: AnyContext, seen: { person?: string; cloud?: string }): void {
  const info = infoOf(c);
  if (!info) return;
  if (seen.person !== undefined) info.person = seen.person;
  if (seen.cloud !== undefined) info.cloud = seen.cloud;
}

/**
 * The logger for this request, with its id bound. Created on first use: most requests never log beyond the
 * access line, and a pino child per request is a measurable share of a fast route.
 */
export function requestLog(c: AnyContext): Logger {
  const info = infoOf(c);
  if (!info) return SILENT;
  info.log ??= info.rootLog.child({ requestId: info.id });
  return info.log;
}

/**
 * One request header, read from Node's already parsed headers when the request came through the Node server:
 * `c.req.header()` would first copy every header into a WHATWG `Headers` (validated one by one), a measurable
 * share of a fast route. Duplicates are joined with ", " as `Headers.get` does; elsewhere (tests calling
 * `app.request`) it falls back to `c.req.header()`.
 */
export function requestHeader(c: Context<AppEnv>, name: Lowercase<string>): string | undefined {
  const headers = (c.env as Partial<HttpBindings> | undefined)?.incoming?.headers;
  return headers ? headerOf(headers, name) : c.req.header(name);
}

/** A request's headers: Node's parsed ones when it came through the Node server, else the WHATWG request's. */
export type RequestHeaders = IncomingHttpHeaders | Headers;

/** One header of either kind, repeated values joined with ", " as `Headers.get` joins them. */
export function headerOf(headers: RequestHeaders, name: Lowercase<string>): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  const value = headers[name];
  return Array.isArray(value) ? value.join(", ") : value;
}

/**
 * Sets a response header on the Node response directly when there is one: a route answering with a single
 * Content-Type then keeps @hono/node-server on its fast path (no WHATWG `Headers` built and copied per
 * response), and a {@link GatewayResponse} keeps Node on its own fast path too. Elsewhere (tests calling
 * `app.request`) it is `c.header()`.
 */
export function setResponseHeader(c: Context<AppEnv>, name: Lowercase<string>, value: string): void {
  const outgoing = (c.env as Partial<HttpBindings> | undefined)?.outgoing;
  if (outgoing instanceof GatewayResponse) outgoing.presetHeader(name, value);
  else if (outgoing) outgoing.setHeader(name, value);
  else c.header(name, value);
}

/**
 * The request body as text. Through the Node server, while nothing has read the body yet, it is read straight
 * from Node's stream: `c.req.text()` would first build a WHATWG Request, an AbortController and a web stream over
 * it, a large share of a small POST. Size limits are the body-limit middleware's (a declared Content-Length is
 * checked before any handler runs). Read the body once: what is read from Node's stream is not cached.
 */
export async function requestText(c: Context<AppEnv>): Promise<string> {
  const incoming = (c.env as Partial<HttpBindings> | undefined)?.incoming;
  // Only a body of declared length, which the body limit has checked, is read from Node; a streamed one was read
  // up to the limit into a new Request, which `c.req.text()` then reads. `readableFlowing === null`: no one has
  // attached to the stream yet.
  if (
    !incoming ||
    incoming.headers["content-length"] === undefined ||
    incoming.headers["transfer-encoding"] !== undefined ||
    incoming.readableFlowing !== null ||
    incoming.readableEnded
  )
    return c.req.text();
  return readAll(incoming);
}

/** Reads a Node request body to its end with plain listeners (an async iterator costs more than a small body). */
function readAll(incoming: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let ended = false;
    incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
    incoming.once("end", () => {
      ended = true;
      resolve(chunks.length === 1 ? (chunks[0] as Buffer).toString("utf8") : Buffer.concat(chunks).toString("utf8"));
    });
    incoming.once("error", reject);
    // A client gone before the end of its body: nothing more will come.
    incoming.once("close", () => {
      if (!ended) reject(new Error("the request body ended early"));
    });
  });
}

/** The request body parsed as JSON, read as {@link requestText} does; throws `SyntaxError` as `c.req.json()` does. */
export async function requestJson(c: Context<AppEnv>): Promise<unknown> {
  return JSON.parse(await requestText(c));
}
