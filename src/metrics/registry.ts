import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import { DurationHistogram } from "./duration-histogram.js";
import { KnownIds, methodLabel, serviceLabel, statusClass } from "./labels.js";

/** What kind of token Archway issued or checked (a bounded label). */
export type TokenKind = "facade" | "access" | "id";
/** How a token check ended (a bounded label). */
export type TokenResult = "valid" | "invalid" | "expired" | "revoked" | "unavailable";
/** Jobs of the sync queue, by state. */
export interface QueueDepth {
  waiting: number;
  active: number;
  failed: number;
}

/** Where Archway's labels come from: the configured ids (cloud and source labels take no other value). */
export interface MetricsOptions {
  /** Configured cloud ids (read at each observation, so a reloaded inventory counts). */
  cloudIds?: () => Iterable<string>;
  /** Configured identity source ids. */
  sourceIds?: () => Iterable<string>;
  /** Node and process metrics (`process_*`, `nodejs_*`, unprefixed as everywhere else); default true. */
  defaultMetrics?: boolean;
}

const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * The process's one metrics registry and every metric Archway defines itself (`archway_*`); parts that keep their
 * own (the sign-in guard, the breakers, the sync status gauges) register into {@link ArchwayMetrics.registry}.
 * Made once per process by the runtime and passed to whatever counts; a part given none counts nothing. Labels
 * are bounded (see `labels.ts`): cloud and source ids from the configuration, services from a fixed list, status
 * classes, never a person, project or path.
 */
export class ArchwayMetrics {
  readonly registry = new Registry();
  /** `archway_http_request_duration_seconds{method,route,status}`: every request, by matched route pattern. */
  readonly requestDuration: DurationHistogram;
  readonly #tokensIssued: Counter<"kind">;
  readonly #tokensValidated: Counter<"kind" | "result">;
  readonly #brokerCache: Counter<"cloud" | "result">;
  readonly #brokerLogins: Counter<"cloud" | "result">;
  readonly #upstream: Histogram<"cloud" | "service" | "method" | "status_class">;
  readonly #proxy: Counter<"cloud" | "status_class">;
  readonly #syncRuns: Counter<"cloud" | "outcome">;
  readonly #syncOps: Counter<"cloud" | "kind" | "result">;
  readonly #source: Histogram<"source" | "operation" | "result">;
  readonly #silentReconnects: Counter<"client">;
  readonly #queues: (() => Promise<QueueDepth>)[] = [];
  readonly #stores: (() => Promise<void>)[] = [];
  readonly #clouds: KnownIds;
  readonly #sources: KnownIds;

  constructor(opts: MetricsOptions = {}) {
    const registers = [this.registry];
    this.#clouds = new KnownIds(opts.cloudIds ?? (() => []));
    this.#sources = new KnownIds(opts.sourceIds ?? (() => []));
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
    this.requestDuration = new DurationHistogram(
      "archway_http_request_duration_seconds",
      "HTTP request duration by method, matched route and status",
      [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    ).register(this.registry);
    this.#tokensIssued = new Counter({
      name: "archway_tokens_issued_total",
      help: "Archway tokens issued, by kind (facade: Keystone facade tokens; access: OAuth access tokens; id: ID tokens)",
      labelNames: ["kind"],
      registers,
    });
    this.#tokensValidated = new Counter({
      name: "archway_tokens_validated_total",
      help: "Archway token checks, by kind and result (valid, invalid, expired, revoked, unavailable)",
      labelNames: ["kind", "result"],
      registers,
    });
    this.#brokerCache = new Counter({
      name: "archway_broker_cache_requests_total",
      help: "Brokered Keystone token requests by cloud: answered from the store's cache (hit) or not (miss)",
      labelNames: ["cloud", "result"],
      registers,
    });
    this.#brokerLogins = new Counter({
      name: "archway_broker_keystone_logins_total",
      help: "Keystone logins of the token broker (cache misses) by cloud and result (success, error)",
      labelNames: ["cloud", "result"],
      registers,
    });
    this.#upstream = new Histogram({
      name: "archway_upstream_request_duration_seconds",
      help: "Calls to the clouds (Archway's own clients and the proxy) by cloud, service, method and status class",
      labelNames: ["cloud", "service", "method", "status_class"],
      buckets: SECONDS,
      registers,
    });
    this.#proxy = new Counter({
      name: "archway_proxy_requests_total",
      help: "Requests through /clouds/{cloud}/{service}/ by cloud and the status class of Archway's answer",
      labelNames: ["cloud", "status_class"],
      registers,
    });
    this.#syncRuns = new Counter({
      name: "archway_sync_runs_total",
      help: "Sync runs of one cloud in this process, by outcome (converged, applied_with_failures, refused, failed, planned)",
      labelNames: ["cloud", "outcome"],
      registers,
    });
    this.#syncOps = new Counter({
      name: "archway_sync_operations_total",
      help: "Sync operations applied to a cloud in this process, by operation kind and result (applied, failed)",
      labelNames: ["cloud", "kind", "result"],
      registers,
    });
    this.#source = new Histogram({
      name: "archway_identity_source_duration_seconds",
      help: "Calls to identity sources (LDAP, OIDC, static) by source, operation and result (ok, error)",
      labelNames: ["source", "operation", "result"],
      buckets: SECONDS,
      registers,
    });
    this.#silentReconnects = new Counter({
      name: "archway_redis_silent_reconnects_total",
      help: "Connections to Redis dropped and opened again because they stayed silent (half-open or hung), by client: store (3 s of unanswered probes), sync_worker (a job kept waiting while the worker had room)",
      labelNames: ["client"],
      registers,
    });
    const queues = this.#queues;
    new Gauge({
      name: "archway_sync_queue_jobs",
      help: "Sync jobs in the queue by state (waiting, active, failed), as this process sees it",
      labelNames: ["state"],
      registers,
      async collect() {
        this.reset();
        // A queue that cannot answer (Redis down) leaves the gauge empty for this scrape: /metrics keeps answering.
        const depths = await Promise.all(queues.map((q) => q().catch(() => null)));
        const sum: QueueDepth = { waiting: 0, active: 0, failed: 0 };
        let any = false;
        for (const d of depths) {
          if (!d) continue;
          any = true;
          sum.waiting += d.waiting;
          sum.active += d.active;
          sum.failed += d.failed;
        }
        if (any) for (const [state, n] of Object.entries(sum)) this.set({ state }, n);
      },
    });
    const stores = this.#stores;
    new Gauge({
      name: "archway_store_up",
      help: "1 when the store (Redis, or the in-memory store) answered a ping within a second at this scrape",
      registers,
      async collect() {
        if (stores.length === 0) return;
        const answered = await Promise.all(stores.map((ping) => withinSecond(ping())));
        this.set(answered.every(Boolean) ? 1 : 0);
      },
    });
  }

  /** Counts a token Archway signed. */
  tokenIssued(kind: TokenKind): void {
    this.#tokensIssued.inc({ kind });
  }

  /** Counts a token check. */
  tokenValidated(kind: TokenKind, result: TokenResult): void {
    this.#tokensValidated.inc({ kind, result });
  }

  /** Counts a brokered-token request answered from the cache or not. */
  brokerCache(cloudId: string, hit: boolean): void {
    this.#brokerCache.inc({ cloud: this.#clouds.label(cloudId), result: hit ? "hit" : "miss" });
  }

  /** Counts a Keystone login of the broker. */
  brokerLogin(cloudId: string, ok: boolean): void {
    this.#brokerLogins.inc({ cloud: this.#clouds.label(cloudId), result: ok ? "success" : "error" });
  }

  /** Records one call to a cloud (one HTTP attempt; `status` 0 when no reply came). */
  upstream(cloudId: string, service: string, method: string, status: number, seconds: number): void {
    this.#upstream.observe(
      {
        cloud: this.#clouds.label(cloudId),
        service: serviceLabel(service),
        method: methodLabel(method),
        status_class: statusClass(status),
      },
      seconds,
    );
  }

  /** Counts one request through the proxy by Archway's answer. */
  proxyRequest(cloudId: string, status: number): void {
    this.#proxy.inc({ cloud: this.#clouds.label(cloudId), status_class: statusClass(status) });
  }

  /** Counts the end of one cloud's sync run. */
  syncRun(cloudId: string, outcome: string): void {
    this.#syncRuns.inc({ cloud: this.#clouds.label(cloudId), outcome });
  }

  /** Counts one sync operation applied (or failed) in a cloud; `kind` is the operation's kind (a fixed union). */
  syncOperation(cloudId: string, kind: string, ok: boolean): void {
    this.#syncOps.inc({ cloud: this.#clouds.label(cloudId), kind, result: ok ? "applied" : "failed" });
  }

  /** Records one call to an identity source. */
  sourceCall(sourceId: string, operation: string, ok: boolean, seconds: number): void {
    this.#source.observe({ source: this.#sources.label(sourceId), operation, result: ok ? "ok" : "error" }, seconds);
  }

  /** Counts one silent connection replaced: the store's (`store`) or a sync worker's queue connections. */
  silentReconnect(client: "store" | "sync_worker"): void {
    this.#silentReconnects.inc({ client });
  }

  /** Adds a queue whose depth `archway_sync_queue_jobs` reports (summed over every queue added). */
  watchQueue(depth: () => Promise<QueueDepth>): void {
    this.#queues.push(depth);
  }

  /** Adds the store whose ping `archway_store_up` reports. */
  watchStore(ping: () => Promise<void>): void {
    this.#stores.push(ping);
  }
}

/** Whether `p` resolved within a second (a store that hangs must not hang the scrape). */
async function withinSecond(p: Promise<void>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), 1_000);
  });
  try {
    return await Promise.race([p.then(() => true).catch(() => false), late]);
  } finally {
    clearTimeout(timer);
  }
}
