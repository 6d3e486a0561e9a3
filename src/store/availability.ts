/**
 * Whether the Redis store can be used right now, and what to do when it cannot (issue 23): every command is
 * bounded (ioredis `commandTimeout`), a store known to be down fails at once instead of queueing, and driver
 * errors reach the structured log at a bounded rate instead of stderr.
 */
import type { Logger } from "../log/index.js";

/** Reply errors that mean "not now" (loading, failover, out of memory), not a bug in the command. */
const TRANSIENT_REPLY = /^(LOADING|READONLY|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|BUSY|OOM|NOREPLICAS|NOAUTH|WRONGPASS)\b/;

/**
 * True when `err` from ioredis means the store is unreachable, hung or refusing work for a while (a 503), false
 * for an error the command itself caused (a 500: a wrong type, a script bug).
 */
export function isUnavailability(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  // ioredis's ReplyError: Redis answered, so only some answers mean "unavailable".
  if (err.name === "ReplyError") return TRANSIENT_REPLY.test(err.message);
  return true;
}

/** True for ioredis's own command timeout (a hung Redis: SIGSTOP, a full network buffer, a stuck failover). */
export function isTimeout(err: unknown): boolean {
  return err instanceof Error && err.message === "Command timed out";
}

/**
 * At most one log line per `key` every `intervalMs`; the next line carries how many were left out. A Redis that
 * is down makes every client emit an error per reconnect attempt: hundreds of lines say nothing more than one.
 */
export class LogLimiter {
  readonly #last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly intervalMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Calls `write(suppressed)` when `key` has not been written within the interval; returns whether it did. */
  take(key: string, write: (suppressed: number) => void): boolean {
    const now = this.now();
    const seen = this.#last.get(key);
    if (seen && now - seen.at < this.intervalMs) {
      seen.suppressed++;
      return false;
    }
    if (this.#last.size > 1_000) this.#last.clear();
    this.#last.set(key, { at: now, suppressed: 0 });
    write(seen?.suppressed ?? 0);
    return true;
  }
}

/** What {@link StoreAvailability} needs to probe a suspected-hung store. */
export interface AvailabilityOptions {
  log?: Logger;
  /** Sends one cheap command (PING); resolves when the store answered. */
  probe: () => Promise<unknown>;
  /** Pause between probes while down. */
  probeEveryMs?: number;
  /**
   * Drops the connections and opens new ones. Called while probes keep going unanswered, every
   * `reconnectEveryMs`: a connection gone half-open (a dropped NAT or firewall entry, a host gone without a reset)
   * never closes by itself, so only a new one can tell a hung Redis from a dead path to it.
   */
  reconnect?: () => void;
  /** How long probes go unanswered before (and between) reconnects; default 3 s. */
  reconnectEveryMs?: number;
  limiter?: LogLimiter;
}

/**
 * Up or down, for the fail-fast gate in front of every command. Down on a closed connection (until ioredis
 * reconnects: `ready`) or on a command timeout (until a probe answers: a stopped Redis keeps its socket open, so
 * no close event ever comes). While down, callers get a 503 at once and nothing queues.
 */
export class StoreAvailability {
  #down: string | undefined;
  #everReady = false;
  #probing = false;
  #closed = false;
  readonly #readyWaiters = new Set<(ready: boolean) => void>();
  readonly #limiter: LogLimiter;

  constructor(private readonly opts: AvailabilityOptions) {
    this.#limiter = opts.limiter ?? new LogLimiter();
  }

  /** Why the store is down, or undefined when it is believed up. */
  get down(): string | undefined {
    return this.#down;
  }

  /** True once the first connection was ready. */
  get everReady(): boolean {
    return this.#everReady;
  }

  /** The connection is ready (first time or after a reconnect). */
  ready(): void {
    this.#everReady = true;
    this.#wake(true);
    this.up();
  }

  /** The store answered: take requests again. */
  up(): void {
    if (this.#down === undefined) return;
    this.opts.log?.warn({ store: "redis", was: this.#down }, "store reachable again");
    this.#down = undefined;
  }

  /** The store is unreachable for `reason`: fail fast until it is back; a timeout starts probing. */
  markDown(reason: string, opts: { probe?: boolean } = {}): void {
    if (this.#closed) return;
    // Commands waiting for the first connection learn at once that it failed.
    this.#wake(false);
    if (this.#down === undefined) {
      this.#down = reason;
      this.opts.log?.error(
        { store: "redis", reason },
        "store unavailable: requests that need it answer 503 store_unavailable until it is back",
      );
    }
    if (opts.probe) void this.#probeUntilUp();
  }

  /**
   * Waits for the first connection, at most `ms` and no longer than it takes to fail (a command at start must not
   * fail just because it came early). True when it is ready.
   */
  async waitForFirstReady(ms: number): Promise<boolean> {
    if (this.#everReady) return true;
    let wake: ((ready: boolean) => void) | undefined;
    let timer: NodeJS.Timeout | undefined;
    const ready = await new Promise<boolean>((resolve) => {
      wake = resolve;
      this.#readyWaiters.add(wake);
      timer = setTimeout(() => resolve(false), ms);
    });
    clearTimeout(timer);
    if (wake) this.#readyWaiters.delete(wake);
    return ready;
  }

  #wake(ready: boolean): void {
    for (const wake of this.#readyWaiters) wake(ready);
    this.#readyWaiters.clear();
  }

  /** Logs a driver error through the structured log, at most one line per kind every few seconds. */
  logError(client: string, err: Error): void {
    const log = this.opts.log;
    if (!log) return;
    const code = (err as { code?: unknown }).code;
    this.#limiter.take(`${client}:${String(code ?? err.message)}`, (suppressed) =>
      log.error({ store: "redis", client, err: { message: err.message, code }, suppressed }, "redis client error"),
    );
  }

  /** Stops probing (the store is closing). */
  close(): void {
    this.#closed = true;
  }

  async #probeUntilUp(): Promise<void> {
    if (this.#probing) return;
    this.#probing = true;
    let silentSince = Date.now();
    try {
      while (this.#down !== undefined && !this.#closed) {
        try {
          await this.opts.probe();
          this.up();
        } catch {
          const silentMs = Date.now() - silentSince;
          if (this.opts.reconnect && silentMs >= (this.opts.reconnectEveryMs ?? 3_000)) {
            this.opts.log?.warn({ store: "redis", silentMs }, "store silent: reconnecting");
            this.opts.reconnect();
            silentSince = Date.now();
          }
          await new Promise((r) => setTimeout(r, this.opts.probeEveryMs ?? 250).unref());
        }
      }
    } finally {
      this.#probing = false;
    }
  }
}

/** One limiter for every client that is not the store's own (BullMQ's connections), shared by the process. */
const SHARED_LIMITER = new LogLimiter();

/**
 * An `error` listener for an ioredis client or BullMQ object: the error goes to the structured log, at most one
 * line per kind every few seconds. Without a listener ioredis prints a raw stack to stderr on every attempt.
 */
export function redisErrorListener(log: Logger | undefined, client: string): (err: Error) => void {
  return (err) => {
    if (!log) return;
    const code = (err as { code?: unknown }).code;
    SHARED_LIMITER.take(`${client}:${String(code ?? err.message)}`, (suppressed) =>
      log.error({ store: "redis", client, err: { message: err.message, code }, suppressed }, "redis client error"),
    );
  };
}
