import { Gauge, type Registry } from "prom-client";
import type { BreakerConfig } from "../config/index.js";
import type { Logger } from "../log/index.js";
import { OpenStackError } from "./errors.js";

/** Where a cloud's circuit stands: calls go (`closed`), are refused (`open`), or one probe is let through. */
export type BreakerState = "closed" | "open" | "half_open";

/** How a breaker opens and backs off. */
export interface BreakerSettings {
  /** Failures in a row (timeouts, connection errors, 5xx) that open the circuit. */
  failureThreshold: number;
  /** How long the circuit stays open the first time; doubled after each failed probe. */
  openMs: number;
  /** The longest the circuit stays open between probes. */
  maxOpenMs: number;
  /** A probe that has not reported after this long counts as failed (its caller may have gone away). */
  probeTimeoutMs: number;
}

/** Defaults: 3 failures open it for 5 s, then 10 s, 20 s... up to 5 min between probes. */
export const DEFAULT_BREAKER: BreakerSettings = {
  failureThreshold: 3,
  openMs: 5_000,
  maxOpenMs: 300_000,
  probeTimeoutMs: 60_000,
};

/** A change of state, for the log and tests. */
export interface BreakerChange {
  cloudId: string;
  from: BreakerState;
  to: BreakerState;
  /** Failures in a row when it opened. */
  failures: number;
  /** When open: milliseconds until the next probe. */
  retryInMs?: number;
  /** The last failure, as its caller described it. */
  reason?: string;
}

/**
 * The circuit breaker of one cloud, a pure state machine on an injected clock. Closed: calls go; `failureThreshold`
 * failures in a row open it. Open: calls are refused at once for a while that doubles after each failed probe (up
 * to `maxOpenMs`). When the while is over, the next caller to {@link admit} is the single probe (half-open); its
 * success closes the circuit, its failure (or silence past `probeTimeoutMs`) opens it again. Results of calls let in
 * earlier still count: a success closes a half-open circuit, a failure re-opens it.
 *
 * Only the cloud's own failures count (timeouts, refused or reset connections, 5xx). A 4xx is an answer: the cloud
 * is up.
 */
export class CircuitBreaker {
  #state: BreakerState = "closed";
  #failures = 0;
  #openUntil = 0;
  #openMs: number;
  #probeSince = 0;
  #reason: string | undefined;

  constructor(
    readonly cloudId: string,
    private readonly settings: BreakerSettings = DEFAULT_BREAKER,
    private readonly now: () => number = Date.now,
    private readonly onChange?: (change: BreakerChange) => void,
  ) {
    this.#openMs = settings.openMs;
  }

  /** The state now (an open circuit whose wait is over reads as half-open). */
  get state(): BreakerState {
    if (this.#state === "open" && this.now() >= this.#openUntil) return "half_open";
    return this.#state;
  }

  /**
   * Milliseconds a caller should wait before trying this cloud again, or 0 when a call may go now. Claims nothing:
   * callers that only want to answer early (the proxy) ask this, then {@link admit} right before calling.
   */
  refusedForMs(): number {
    const now = this.now();
    if (this.#state === "open") return Math.max(0, this.#openUntil - now);
    if (this.#state === "half_open" && now - this.#probeSince < this.settings.probeTimeoutMs) {
      // The probe is out: the answer will come within the probe timeout at the latest.
      return Math.max(1_000, Math.min(this.#openMs, this.#probeSince + this.settings.probeTimeoutMs - now));
    }
    return 0;
  }

  /** True when a call may go now; the first caller after an open wait becomes the probe. */
  admit(): boolean {
    const now = this.now();
    if (this.#state === "closed") return true;
    if (this.#state === "open") {
      if (now < this.#openUntil) return false;
      this.#probeSince = now;
      this.#move("half_open");
      return true;
    }
    // Half-open: the probe is out. One that never reported counts as failed, and this caller waits its turn.
    if (now - this.#probeSince >= this.settings.probeTimeoutMs) this.failure("the probe did not report back");
    return false;
  }

  /** The cloud answered (any status below 500). */
  success(): void {
    this.#failures = 0;
    if (this.#state === "half_open") {
      this.#openMs = this.settings.openMs;
      this.#move("closed");
    }
  }

  /** The cloud did not answer, or answered 5xx; `reason` says how (logged when it opens the circuit). */
  failure(reason?: string): void {
    this.#reason = reason ?? this.#reason;
    if (this.#state === "open") return;
    this.#failures++;
    if (this.#state === "half_open") {
      this.#openMs = Math.min(this.#openMs * 2, this.settings.maxOpenMs);
      this.#open();
    } else if (this.#failures >= this.settings.failureThreshold) {
      this.#open();
    }
  }

  /** An error naming the cloud for a call refused while the circuit is open (503; `retryAfterSeconds` set). */
  refusal(operation: string): OpenStackError & { retryAfterSeconds: number } {
    const waitMs = this.refusedForMs();
    const seconds = Math.max(1, Math.ceil(waitMs / 1000));
    const err = new OpenStackError(
      "cloud_unavailable",
      `cloud ${this.cloudId} is unavailable: Archway stopped calling it after ${Math.max(this.#failures, 1)} ` +
        `failure(s) in a row${this.#reason ? ` (last: ${this.#reason})` : ""}; next try in ${seconds} s`,
      503,
      { cloudId: this.cloudId, operation, upstreamStatus: 0 },
    ) as OpenStackError & { retryAfterSeconds: number };
    err.retryAfterSeconds = seconds;
    return err;
  }

  #open(): void {
    this.#openUntil = this.now() + this.#openMs;
    this.#move("open");
  }

  #move(to: BreakerState): void {
    const from = this.#state;
    this.#state = to;
    if (from === to) return;
    this.onChange?.({
      cloudId: this.cloudId,
      from,
      to,
      failures: this.#failures,
      ...(to === "open" ? { retryInMs: this.#openMs, reason: this.#reason } : {}),
    });
  }
}

/** Numbers for the state gauge: 0 closed, 1 half-open, 2 open. */
export const BREAKER_STATE_VALUE: Record<BreakerState, number> = { closed: 0, half_open: 1, open: 2 };

/**
 * One breaker per cloud for the whole process, shared by everything that calls the cloud (catalog reads, the token
 * broker, the proxy, sync): whoever learns that a cloud is down spares the others the wait.
 */
export class CloudBreakers {
  readonly #breakers = new Map<string, CircuitBreaker>();
  readonly #settings: BreakerSettings;
  readonly #now: () => number;
  readonly #onChange?: (change: BreakerChange) => void;

  constructor(
    opts: { settings?: Partial<BreakerSettings>; now?: () => number; onChange?: (change: BreakerChange) => void } = {},
  ) {
    this.#settings = { ...DEFAULT_BREAKER, ...opts.settings };
    this.#now = opts.now ?? Date.now;
    this.#onChange = opts.onChange;
  }

  /** The breaker of `cloudId`, made on first use. */
  get(cloudId: string): CircuitBreaker {
    let breaker = this.#breakers.get(cloudId);
    if (!breaker) {
      breaker = new CircuitBreaker(cloudId, this.#settings, this.#now, this.#onChange);
      this.#breakers.set(cloudId, breaker);
    }
    return breaker;
  }

  /** Every breaker made so far. */
  all(): CircuitBreaker[] {
    return [...this.#breakers.values()];
  }
}

/**
 * `archway_cloud_circuit_state{cloud}` (0 closed, 1 half-open, 2 open) for every cloud of `cloudIds`, read when
 * `/metrics` is scraped.
 */
export function registerBreakerMetrics(registry: Registry, breakers: CloudBreakers, cloudIds: () => string[]): void {
  new Gauge({
    name: "archway_cloud_circuit_state",
    help: "Circuit breaker of each cloud in this process: 0 closed, 1 half-open (probing), 2 open (calls refused)",
    labelNames: ["cloud"],
    registers: [registry],
    collect() {
      this.reset();
      for (const id of cloudIds()) this.set({ cloud: id }, BREAKER_STATE_VALUE[breakers.get(id).state]);
    },
  });
}

/** The process's breakers from the `breaker` configuration, logging state changes only (opening as a warning). */
export function configuredBreakers(config: BreakerConfig, log?: Pick<Logger, "info" | "warn">): CloudBreakers {
  return new CloudBreakers({
    settings: {
      failureThreshold: config.failureThreshold,
      openMs: config.openSeconds * 1000,
      maxOpenMs: config.maxOpenSeconds * 1000,
    },
    onChange: (change) => {
      const fields = { cloud: change.cloudId, from: change.from, to: change.to, failures: change.failures };
      if (change.to === "open")
        log?.warn({ ...fields, retryInMs: change.retryInMs, reason: change.reason }, "cloud circuit opened");
      else log?.info(fields, change.to === "closed" ? "cloud circuit closed" : "cloud circuit half-open");
    },
  });
}
