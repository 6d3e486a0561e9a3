import type { IncomingHttpHeaders } from "node:http";
import { Agent, type Dispatcher, getGlobalDispatcher } from "undici";
import type { z } from "zod";
// spans.js, not the index: the index also loads the OTLP exporter and SDK, ~8 MiB a process that never traces
// (an image transfer worker) does not need; the gateway loads them through startTracing anyway.
import { clientSpan } from "../telemetry/spans.js";
import type { CircuitBreaker } from "./breaker.js";
import { codeForStatus, OpenStackError, type OpenStackService, upstreamMessage } from "./errors.js";
import { ExchangeTimeout, ExchangeTooLarge, exchange } from "./exchange.js";
import type { Limiter } from "./limiter.js";

/** What the request hook sees once per HTTP attempt (retries included): enough to count and time calls. */
export interface RequestEvent {
  cloudId: string;
  service: OpenStackService;
  operation: string;
  method: string;
  /** Path and query, without the host (never a token). */
  path: string;
  /** Upstream status, 0 when no reply came. */
  status: number;
  attempt: number;
  ms: number;
}

/** How retries back off: `baseMs * 2^attempt`, capped at `maxMs`, with full jitter. */
export interface RetryPolicy {
  /** Attempts in total, the first included. */
  attempts: number;
  baseMs: number;
  maxMs: number;
}

/** Everything a transport needs; one per (cloud, service), sharing the cloud's limiter and agent. */
export interface TransportOptions {
  cloudId: string;
  service: OpenStackService;
  limiter: Limiter;
  timeoutMs: number;
  retry?: Partial<RetryPolicy>;
  /** Keep-alive connection pool; shared by a cloud's clients. */
  dispatcher?: Dispatcher;
  onRequest?: (event: RequestEvent) => void;
  /** Injected for tests: [0, 1). */
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** The cloud's circuit breaker (shared by every caller of the cloud): refused at once while open. */
  breaker?: CircuitBreaker;
}

/** One call: the transport adds the timeout, the retries, the limiter and the reply validation. */
export interface CallSpec<S extends z.ZodType | undefined> {
  operation: string;
  method: "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE";
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
  /** Schema of the JSON reply; omit for calls without a body (204). */
  schema?: S;
  /**
   * Safe to send twice. Defaults to true for GET/HEAD/PUT/DELETE. A POST that is not marked is retried only
   * when the connection was refused (the request never left).
   */
  idempotent?: boolean;
}

/** A validated reply. */
export interface CallResult<T> {
  status: number;
  headers: Headers;
  data: T;
}

const DEFAULT_RETRY: RetryPolicy = { attempts: 3, baseMs: 100, maxMs: 2_000 };
const RETRY_STATUS = new Set([429, 500, 502, 503, 504]);
/** Socket-level failures after which an idempotent request may be sent again. */
const RESET_CODES = new Set([
  "ECONNRESET",
  "EPIPE",
  "ECONNREFUSED",
  "ETIMEDOUT",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
]);

/**
 * A keep-alive connection pool for one cloud (close it with the cloud's clients). `connections`: sockets per
 * origin; a pool behind a limiter of N calls needs no more than N (more only opens sockets that the pool takes
 * while a finished one is being handed back: twice the connects, measured at a thousand clouds).
 */
export function createAgent(connections = 64): Agent {
  // Short idle timeout: some Keystones (uwsgi --http-socket) drop idle sockets silently, and a reused dead
  // socket costs a retry.
  return new Agent({ keepAliveTimeout: 4_000, keepAliveMaxTimeout: 30_000, connections });
}

/**
 * JSON over HTTP to one OpenStack service of one cloud: keep-alive, per-attempt timeout, bounded retries with
 * backoff and jitter on resets, 5xx and 429 (idempotent calls only), the cloud's concurrency limit, and every
 * reply validated by its zod schema. Failures are {@link OpenStackError}s naming the cloud and the operation.
 */
export class Transport {
  private readonly retry: RetryPolicy;
  private readonly random: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly opts: TransportOptions) {
    this.retry = { ...DEFAULT_RETRY, ...opts.retry };
    this.random = opts.random ?? Math.random;
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  get cloudId(): string {
    return this.opts.cloudId;
  }

  /**
   * Sends the call and returns the validated reply, or throws an {@link OpenStackError}. One client span per call
   * (retries inside it) when tracing is on, named by the operation (`keystone.auth.issue`), with the cloud.
   */
  call<S extends z.ZodType | undefined>(
    spec: CallSpec<S>,
  ): Promise<CallResult<S extends z.ZodType ? z.infer<S> : undefined>> {
    return clientSpan(
      spec.operation,
      { "archway.cloud": this.opts.cloudId, "http.request.method": spec.method, "rpc.method": spec.operation },
      async (span) => {
        const result = await this.#send(spec);
        span.setAttribute("http.response.status_code", result.status);
        return result;
      },
    );
  }

  async #send<S extends z.ZodType | undefined>(
    spec: CallSpec<S>,
  ): Promise<CallResult<S extends z.ZodType ? z.infer<S> : undefined>> {
    const idempotent = spec.idempotent ?? spec.method !== "POST";
    const breaker = this.opts.breaker;
    for (let attempt = 1; ; attempt++) {
      // Before the limiter: a call to a cloud known down must not queue behind calls that hang on it.
      if (breaker && !breaker.admit()) throw breaker.refusal(spec.operation);
      const outcome = await this.opts.limiter.run(() => this.attempt(spec, attempt));
      const last = attempt >= this.retry.attempts;
      if (outcome.kind === "reply") {
        const { res, body } = outcome;
        // A 4xx is an answer (the cloud is up); 5xx is the cloud failing.
        if (res.status >= 500) breaker?.failure(`HTTP ${res.status} on ${spec.operation}`);
        else breaker?.success();
        if (res.status < 400) {
          const data = this.validate(spec, body);
          // A getter: the token reply is about the only caller that reads a header.
          return {
            status: res.status,
            get headers() {
              return res.headers;
            },
            data,
          };
        }
        if (!last && idempotent && RETRY_STATUS.has(res.status)) {
          await this.sleep(this.backoff(attempt, res.header("retry-after")));
          continue;
        }
        throw this.statusError(spec, res.status, body);
      }
      breaker?.failure(outcome.reason);
      const retryable = outcome.refused || (idempotent && outcome.reset);
      if (!last && retryable) {
        await this.sleep(this.backoff(attempt, null));
        continue;
      }
      const { cloudId } = this.opts;
      throw new OpenStackError(
        "cloud_unavailable",
        `cloud ${cloudId}: ${this.opts.service} did not answer ${spec.operation} (${outcome.reason}` +
          `${attempt > 1 ? ` after ${attempt} attempts` : ""})`,
        503,
        { cloudId, operation: spec.operation, upstreamStatus: 0 },
        { cause: outcome.error },
      );
    }
  }

  private async attempt(
    spec: CallSpec<z.ZodType | undefined>,
    attempt: number,
  ): Promise<
    | { kind: "reply"; res: Reply; body: unknown }
    | { kind: "failure"; reason: string; refused: boolean; reset: boolean; error: unknown }
  > {
    const started = performance.now();
    const url = new URL(spec.url);
    const emit = (status: number) =>
      this.opts.onRequest?.({
        cloudId: this.opts.cloudId,
        service: this.opts.service,
        operation: spec.operation,
        method: spec.method,
        path: url.pathname + url.search,
        status,
        attempt,
        ms: performance.now() - started,
      });
    const headers: Record<string, string> = { accept: "application/json" };
    if (spec.body !== undefined) headers["content-type"] = "application/json";
    if (spec.headers) Object.assign(headers, spec.headers);
    try {
      // A dispatch handler that buffers the reply (exchange.ts), not request() or fetch(): no streams, signals or
      // WHATWG objects per call; at a thousand clouds their garbage was most of sync's CPU (BENCHMARKS.md).
      const res = await exchange(this.opts.dispatcher ?? getGlobalDispatcher(), {
        url,
        method: spec.method,
        headers,
        body: spec.body !== undefined ? JSON.stringify(spec.body) : undefined,
        timeoutMs: this.opts.timeoutMs,
      });
      emit(res.status);
      let body: unknown;
      try {
        body = res.text ? JSON.parse(res.text) : undefined;
      } catch {
        body = undefined;
      }
      return { kind: "reply", res: new Reply(res.status, res.headers), body };
    } catch (err) {
      emit(0);
      const timedOut = err instanceof ExchangeTimeout;
      const code = errorCode(err);
      return {
        kind: "failure",
        // Ours say what happened in a sentence; a socket's code is what a person can look up.
        reason:
          timedOut || err instanceof ExchangeTooLarge ? err.message : (code ?? (err as Error)?.message ?? "error"),
        refused: code === "ECONNREFUSED",
        reset: timedOut || (code !== undefined && RESET_CODES.has(code)),
        error: err,
      };
    }
  }

  private validate(spec: CallSpec<z.ZodType | undefined>, body: unknown) {
    if (!spec.schema) return undefined as never;
    const parsed = spec.schema.safeParse(body);
    if (parsed.success) return parsed.data as never;
    const issue = parsed.error.issues[0];
    const where = issue ? `${issue.path.join(".") || "(root)"}: ${issue.message}` : "unexpected shape";
    const { cloudId, service } = this.opts;
    throw new OpenStackError(
      `${service}_invalid_reply`,
      `cloud ${cloudId}: ${service} answered ${spec.operation} with an unexpected reply (${where})`,
      502,
      { cloudId, operation: spec.operation, upstreamStatus: 200 },
    );
  }

  private statusError(spec: CallSpec<z.ZodType | undefined>, status: number, body: unknown): OpenStackError {
    const { cloudId, service } = this.opts;
    const mapped = codeForStatus(service, status);
    const detail = upstreamMessage(body);
    return new OpenStackError(
      mapped.code,
      `cloud ${cloudId}: ${service} ${spec.operation} failed with HTTP ${status}${detail ? `: ${detail}` : ""}`,
      mapped.status,
      { cloudId, operation: spec.operation, upstreamStatus: status },
    );
  }

  private backoff(attempt: number, retryAfter: string | null): number {
    const seconds = retryAfter ? Number(retryAfter) : Number.NaN;
    if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds * 1000, this.retry.maxMs);
    const ceiling = Math.min(this.retry.maxMs, this.retry.baseMs * 2 ** (attempt - 1));
    return Math.floor(this.random() * ceiling);
  }
}

/** A reply's status and headers; the WHATWG `Headers` of {@link CallResult} is built only when someone reads it. */
class Reply {
  #headers: Headers | undefined;

  constructor(
    readonly status: number,
    private readonly raw: () => IncomingHttpHeaders,
  ) {}

  get headers(): Headers {
    if (!this.#headers) {
      const h = new Headers();
      for (const [name, value] of Object.entries(this.raw())) {
        if (value === undefined) continue;
        for (const v of Array.isArray(value) ? value : [value]) h.append(name, v);
      }
      this.#headers = h;
    }
    return this.#headers;
  }

  header(name: string): string | null {
    const v = this.raw()[name];
    return v === undefined ? null : Array.isArray(v) ? v.join(", ") : v;
  }
}

function errorCode(err: unknown): string | undefined {
  let e: unknown = err;
  // undici wraps the socket error: TypeError("fetch failed") { cause: { code } }, sometimes twice.
  for (let depth = 0; depth < 4 && e && typeof e === "object"; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}
