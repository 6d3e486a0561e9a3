import type { HttpBindings } from "@hono/node-server";
import type { Context } from "hono";
import type { Logger } from "../log/index.js";

/** Hono environment shared by every route: node bindings plus per-request variables set by middleware. */
export interface AppEnv {
  Bindings: HttpBindings;
  Variables: {
    requestId: string;
    /** The client's address (from the socket, or X-Forwarded-For when the peer is a trusted proxy). */
    clientIp: string;
    /** The process logger; use {@link requestLog} to get one bound to the request id. */
    rootLog: Logger;
    /** Memoized by {@link requestLog}. */
    log?: Logger;
  };
}

/**
 * The logger for this request, with its id bound. Created on first use: most requests never log beyond the
 * access line, and a pino child per request is a measurable share of a fast route.
 */
export function requestLog(c: Context<AppEnv>): Logger {
  let log = c.get("log");
  if (!log) {
    log = c.get("rootLog").child({ requestId: c.get("requestId") });
    c.set("log", log);
  }
  return log;
}

/**
 * One request header, read from Node's already parsed headers when the request came through the Node server:
 * `c.req.header()` would first copy every header into a WHATWG `Headers` (validated one by one), a measurable
 * share of a fast route. Duplicates are joined with ", " as `Headers.get` does; elsewhere (tests calling
 * `app.request`) it falls back to `c.req.header()`.
 */
export function requestHeader(c: Context<AppEnv>, name: Lowercase<string>): string | undefined {
  const headers = (c.env as Partial<HttpBindings> | undefined)?.incoming?.headers;
  if (!headers) return c.req.header(name);
  const value = headers[name];
  return Array.isArray(value) ? value.join(", ") : value;
}

/**
 * Sets a response header on the Node response directly when there is one: a route answering with a single
 * Content-Type then keeps @hono/node-server on its fast path (no WHATWG `Headers` built and copied per
 * response). Elsewhere (tests calling `app.request`) it is `c.header()`.
 */
export function setResponseHeader(c: Context<AppEnv>, name: string, value: string): void {
  const outgoing = (c.env as Partial<HttpBindings> | undefined)?.outgoing;
  if (outgoing) outgoing.setHeader(name, value);
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
  // `readableFlowing === null`: no one has attached to the stream (a streamed body checked by the body limit was
  // consumed into a new Request, which `c.req.text()` then reads).
  if (!incoming || incoming.readableFlowing !== null || incoming.readableEnded) return c.req.text();
  const chunks: Buffer[] = [];
  for await (const chunk of incoming) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** The request body parsed as JSON, read as {@link requestText} does; throws `SyntaxError` as `c.req.json()` does. */
export async function requestJson(c: Context<AppEnv>): Promise<unknown> {
  return JSON.parse(await requestText(c));
}
