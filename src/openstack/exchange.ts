import type { IncomingHttpHeaders } from "node:http";
import { type Dispatcher, util } from "undici";

/** One request to send: absolute URL, method, headers and an already serialized body. */
export interface ExchangeRequest {
  url: URL;
  method: string;
  headers: Record<string, string>;
  body?: string;
  /** The whole exchange (queueing for a socket, connect, reply, body) must end within this. */
  timeoutMs: number;
  /** A reply body longer than this is cut and refused ({@link ExchangeTooLarge}). Default {@link MAX_REPLY_BYTES}. */
  maxBytes?: number;
}

/**
 * The longest OpenStack reply Archway reads: far above any listing it makes (a role-assignment list of a large
 * cloud is a few MiB), far below what would hurt the process: a broken or hostile endpoint that never stops sending
 * costs that one call, not the memory every other cloud's sync shares.
 */
export const MAX_REPLY_BYTES = 64 * 1024 * 1024;

/** The reply body was longer than the exchange's `maxBytes`: the request was aborted. */
export class ExchangeTooLarge extends Error {
  readonly code = "EREPLYTOOLARGE";

  constructor(readonly maxBytes: number) {
    super(`reply longer than ${maxBytes} bytes`);
  }
}

/** A reply read to its end: status, headers (parsed on first read) and the body as text. */
export interface ExchangeReply {
  status: number;
  /** Header values by lower-case name. */
  headers(): IncomingHttpHeaders;
  text: string;
}

/** The reply did not end within the exchange's `timeoutMs`. */
export class ExchangeTimeout extends Error {
  readonly code = "ETIMEDOUT";

  constructor(readonly timeoutMs: number) {
    super(`no reply within ${timeoutMs} ms`);
  }
}

/** Redirects followed at most, as fetch() and undici's `maxRedirections` callers used to. */
const MAX_REDIRECTS = 5;
const REDIRECT = new Set([301, 302, 303, 307, 308]);
/** Credentials never sent to another origin than the one asked (a token in `x-auth-token` is one). */
const CREDENTIALS = new Set(["authorization", "x-auth-token", "x-subject-token", "cookie", "proxy-authorization"]);

/**
 * Sends one request through `dispatcher` and reads the whole reply into a string, following redirects. A handler of
 * undici's dispatch API, not `request()`: no body stream, AbortSignal, redirect wrapper or header object per call,
 * which were a fifth of a sync's CPU per reply at a thousand clouds (BENCHMARKS.md, sync-scale). The timeout covers
 * every hop; on expiry the request is aborted (its socket closed) and {@link ExchangeTimeout} thrown.
 */
export async function exchange(dispatcher: Dispatcher, req: ExchangeRequest): Promise<ExchangeReply> {
  const deadline = performance.now() + req.timeoutMs;
  let { url, method, headers, body } = req;
  for (let hop = 0; ; hop++) {
    const left = Math.max(0, deadline - performance.now());
    const next: ExchangeRequest = { url, method, headers, body, timeoutMs: req.timeoutMs, maxBytes: req.maxBytes };
    const reply = await once(dispatcher, next, left);
    const location = REDIRECT.has(reply.status) && hop < MAX_REDIRECTS ? reply.headers().location : undefined;
    if (typeof location !== "string") return reply;
    const to = new URL(location, url);
    if (to.origin !== url.origin) headers = without(headers, CREDENTIALS);
    // As fetch(): a 303, or a 301/302 of a POST, is followed by a GET without the body.
    if (reply.status === 303 || ((reply.status === 301 || reply.status === 302) && method === "POST")) {
      method = "GET";
      body = undefined;
      headers = without(headers, CONTENT_TYPE);
    }
    url = to;
  }
}

/** `headers` without those named in `names` (lower case), whatever their case. */
function without(headers: Record<string, string>, names: ReadonlySet<string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([k]) => !names.has(k.toLowerCase())));
}

const CONTENT_TYPE: ReadonlySet<string> = new Set(["content-type"]);

/** One hop: `leftMs` of the exchange's `timeoutMs` remain. */
function once(dispatcher: Dispatcher, req: ExchangeRequest, leftMs: number): Promise<ExchangeReply> {
  const { url, method, headers, body } = req;
  return new Promise((resolve, reject) => {
    const handler = new Collect(resolve, reject, leftMs, req.timeoutMs, req.maxBytes ?? MAX_REPLY_BYTES);
    try {
      const path = url.pathname + url.search;
      dispatcher.dispatch(
        { origin: url.origin, path, method: method as Dispatcher.HttpMethod, headers, body },
        handler,
      );
    } catch (err) {
      handler.onError(err as Error);
    }
  });
}

/** Collects one reply's chunks; settles its promise once, on the reply's end, an error or the timeout. */
class Collect implements Dispatcher.DispatchHandlers {
  #abort: ((err?: Error) => void) | undefined;
  #timer: NodeJS.Timeout | undefined;
  #error: Error | undefined;
  #done = false;
  #status = 0;
  #rawHeaders: Buffer[] = [];
  #chunks: Buffer[] = [];
  #bytes = 0;

  constructor(
    private readonly resolve: (reply: ExchangeReply) => void,
    private readonly reject: (err: Error) => void,
    leftMs: number,
    timeoutMs: number,
    private readonly maxBytes: number,
  ) {
    this.#timer = setTimeout(() => {
      const err = new ExchangeTimeout(timeoutMs);
      this.#error = err;
      this.#abort?.(err);
      this.#fail(err);
    }, leftMs);
  }

  onConnect(abort: (err?: Error) => void): void {
    // Timed out while waiting for a socket: give the socket back at once.
    if (this.#error) abort(this.#error);
    else this.#abort = abort;
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[]): boolean {
    this.#status = statusCode;
    this.#rawHeaders = rawHeaders;
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.#bytes += chunk.length;
    if (this.#bytes > this.maxBytes) {
      const err = new ExchangeTooLarge(this.maxBytes);
      this.#error = err;
      this.#chunks = [];
      this.#abort?.(err);
      this.#fail(err);
      return false;
    }
    this.#chunks.push(chunk);
    return true;
  }

  onComplete(): void {
    if (this.#done) return;
    this.#done = true;
    clearTimeout(this.#timer);
    const chunks = this.#chunks;
    // One chunk is the common case (a small JSON reply): no copy.
    const text = chunks.length === 1 ? (chunks[0] as Buffer).toString("utf8") : Buffer.concat(chunks).toString("utf8");
    const raw = this.#rawHeaders;
    let parsed: IncomingHttpHeaders | undefined;
    this.resolve({
      status: this.#status,
      headers: () => {
        parsed ??= util.parseHeaders(raw) as IncomingHttpHeaders;
        return parsed;
      },
      text,
    });
  }

  onError(err: Error): void {
    this.#fail(this.#error ?? err);
  }

  #fail(err: Error): void {
    if (this.#done) return;
    this.#done = true;
    clearTimeout(this.#timer);
    this.reject(err);
  }
}
