import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { Cluster, Redis, type RedisOptions } from "ioredis";
import type { StoreConfig } from "../config/index.js";
import { ArchwayError, storeUnavailable } from "../errors.js";
import type { Logger } from "../log/index.js";
import { isTimeout, isUnavailability, StoreAvailability } from "./availability.js";
import { configValue, judgePersistence, MARKER_KEY, markerValue, markerVerdict } from "./durability.js";
import type { CounterChange, Lock, Store, StreamEntry } from "./store.js";

// Delete only if the caller still holds the lock (the token matches): a lock that expired and was taken by
// another process must not be released by the late first holder.
const RELEASE_LOCK = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) else return 0 end`;
// The same check before pushing the expiry of a lock still held (a long sync run renews its lock).
const EXTEND_LOCK = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("PEXPIRE", KEYS[1], ARGV[2]) else return 0 end`;
// INCRBY, and start the TTL only on the first increment so a window does not slide with every attempt.
const INCREMENT = `local v = redis.call("INCRBY", KEYS[1], ARGV[1]) if redis.call("PTTL", KEYS[1]) < 0 then redis.call("PEXPIRE", KEYS[1], ARGV[2]) end return v`;

// DECRBY on an existing counter only, floored at zero; PTTL is untouched because SET would clear it (KEEPTTL).
const DECREMENT = `local v = redis.call("GET", KEYS[1]) if not v then return 0 end local n = tonumber(v) - tonumber(ARGV[1]) if n < 0 then n = 0 end redis.call("SET", KEYS[1], n, "KEEPTTL") return n`;

// INCREMENT or DECREMENT per key (ARGV: by, ttl pairs), in one script: one round trip for several counters.
const ADD_TO_COUNTERS = `local out = {}
for i, key in ipairs(KEYS) do
  local by = tonumber(ARGV[2 * i - 1])
  if by >= 0 then
    local v = redis.call("INCRBY", key, by)
    if redis.call("PTTL", key) < 0 then redis.call("PEXPIRE", key, ARGV[2 * i]) end
    out[i] = v
  else
    local v = redis.call("GET", key)
    if not v then out[i] = 0 else
      local n = tonumber(v) + by
      if n < 0 then n = 0 end
      redis.call("SET", key, n, "KEEPTTL")
      out[i] = n
    end
  end
end
return out`;

/** A Redis store configuration; `commandTimeoutMs` defaults as in the schema when built by hand (tests). */
type RedisConfig = OptionalTimeout<Exclude<StoreConfig, { type: "memory" }>>;
type OptionalTimeout<T> = T extends unknown ? Omit<T, "commandTimeoutMs"> & { commandTimeoutMs?: number } : never;
const DEFAULT_TIMEOUT_MS = 750;
/** How long a command at start waits for the first connection (ioredis's connect timeout; a failure ends it sooner). */
const FIRST_CONNECT_MS = 5_000;
/** The longest a readiness check (`ping()`) may take before it says the store is unavailable. */
const PING_MS = 3_000;
type Client = Redis | Cluster;

/** Options of {@link RedisStore} beyond its configuration. */
export interface RedisStoreOptions {
  /** Where driver errors, the persistence check and store incidents go. */
  log?: Logger;
  /** Called each time a silent connection is dropped and opened again (`archway_redis_silent_reconnects_total`). */
  onSilentReconnect?: () => void;
}

/** A store incident: the data vanished while Archway ran (a Redis restarted without persistence, a flush). */
export interface StoreIncident {
  type: "store.wiped";
  /** The marker that vanished: when and by which process it was written. */
  marker: string;
}

/**
 * The production store: one Redis (or Sentinel/Cluster) shared by every Archway process. Every command is
 * bounded by `commandTimeoutMs`; while Redis is known down (closed or hung) commands fail at once with a 503
 * `store_unavailable` and nothing queues; on each (re)connect the persistence settings and the wipe marker are
 * checked (see durability.ts).
 */
export class RedisStore implements Store {
  readonly kind = "redis" as const;
  readonly #client: Client;
  readonly #subscriber: Client;
  readonly #prefix: string;
  readonly #timeoutMs: number;
  readonly #log: Logger | undefined;
  readonly #availability: StoreAvailability;
  readonly #handlers = new Map<string, Set<(message: string) => void>>();
  readonly #incidents = new Set<(incident: StoreIncident) => void>();
  /** The marker value seen or written at the last connect; null until then. */
  #marker: string | null = null;

  constructor(config: RedisConfig, opts: RedisStoreOptions = {}) {
    this.#prefix = config.keyPrefix;
    this.#timeoutMs = config.commandTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#log = opts.log?.child({ component: "store" });
    this.#client = connect(config, { offlineQueue: false });
    // The subscriber keeps ioredis's offline queue: it only ever holds (un)subscribe commands, one per channel, and
    // ioredis re-subscribes on reconnect. No command timeout: a subscription waits for Redis, it does not fail.
    this.#subscriber = connect(config, { offlineQueue: true, noTimeout: true });
    this.#availability = new StoreAvailability({
      log: this.#log,
      probe: () => this.#client.ping(),
      reconnect: () => {
        this.#client.disconnect(true);
        this.#subscriber.disconnect(true);
        opts.onSilentReconnect?.();
      },
    });
    this.#client.on("error", (err: Error) => this.#availability.logError("commands", err));
    this.#subscriber.on("error", (err: Error) => this.#availability.logError("subscriber", err));
    this.#client.on("close", () => this.#availability.markDown("connection closed"));
    this.#client.on("ready", () => {
      this.#availability.ready();
      void this.#checkDurability();
    });
    this.#subscriber.on("message", (channel: string, message: string) => {
      for (const handler of this.#handlers.get(channel) ?? []) handler(message);
    });
  }

  /** Calls `listener` on each store incident (the runtime records an audit event for it). */
  onIncident(listener: (incident: StoreIncident) => void): void {
    this.#incidents.add(listener);
  }

  /** Why the store is believed down right now (for `/readyz` and tests), or undefined. */
  get unavailable(): string | undefined {
    return this.#availability.down;
  }

  /** The underlying ioredis client (BullMQ shares its connection settings). */
  get client(): Client {
    return this.#client;
  }

  async get(key: string): Promise<string | null> {
    return this.#call((c) => c.get(this.#key(key)));
  }

  async set(key: string, value: string, opts: { ttlMs?: number } = {}): Promise<void> {
    if (opts.ttlMs === undefined) await this.#call((c) => c.set(this.#key(key), value));
    else await this.#call((c) => c.set(this.#key(key), value, "PX", Math.max(1, Math.ceil(opts.ttlMs ?? 1))));
  }

  async setIfAbsent(key: string, value: string, opts: { ttlMs?: number } = {}): Promise<boolean> {
    const ttlMs = opts.ttlMs;
    const reply = await this.#call((c) =>
      ttlMs === undefined
        ? c.set(this.#key(key), value, "NX")
        : c.set(this.#key(key), value, "PX", Math.max(1, Math.ceil(ttlMs)), "NX"),
    );
    return reply === "OK";
  }

  async delete(key: string): Promise<boolean> {
    return (await this.#call((c) => c.del(this.#key(key)))) > 0;
  }

  async increment(key: string, opts: { ttlMs: number; by?: number }): Promise<number> {
    const reply = await this.#call((c) => c.eval(INCREMENT, 1, this.#key(key), opts.by ?? 1, Math.ceil(opts.ttlMs)));
    return Number(reply);
  }

  async decrement(key: string, opts: { by?: number } = {}): Promise<number> {
    return Number(await this.#call((c) => c.eval(DECREMENT, 1, this.#key(key), opts.by ?? 1)));
  }

  async addToCounters(changes: readonly CounterChange[]): Promise<number[]> {
    // A cluster cannot run one script over keys in different slots: one script per counter, sent together.
    if (this.#client instanceof Cluster) {
      const apply = (c: CounterChange) => (c.by < 0 ? this.decrement(c.key, { by: -c.by }) : this.increment(c.key, c));
      const settled = await Promise.allSettled(changes.map(apply));
      const failed = settled.find((r) => r.status === "rejected");
      if (!failed) return settled.map((r) => (r as PromiseFulfilledResult<number>).value);
      // One master lost: the increments its peers took are taken back before the error goes up, so a caller that
      // never learns the new values (a sign-in reserving its attempt) does not leave them counted. Without this,
      // sign-ins answered 503 during the outage piled up as failures and locked the person out once it was over.
      await Promise.allSettled(
        changes.map((c, i) =>
          c.by > 0 && settled[i]?.status === "fulfilled" ? this.decrement(c.key, { by: c.by }) : undefined,
        ),
      );
      throw failed.reason;
    }
    const args = changes.flatMap((c) => [c.by, Math.max(1, Math.ceil(c.ttlMs))]);
    const keys = changes.map((c) => this.#key(c.key));
    const reply = (await this.#call((c) => c.eval(ADD_TO_COUNTERS, keys.length, ...keys, ...args))) as unknown[];
    return reply.map(Number);
  }

  async acquireLock(key: string, ttlMs: number): Promise<Lock | null> {
    const token = randomUUID();
    if (!(await this.setIfAbsent(key, token, { ttlMs }))) return null;
    return {
      key,
      release: async () => Number(await this.#call((c) => c.eval(RELEASE_LOCK, 1, this.#key(key), token))) === 1,
      extend: async (ms) =>
        Number(await this.#call((c) => c.eval(EXTEND_LOCK, 1, this.#key(key), token, Math.max(1, Math.ceil(ms))))) ===
        1,
    };
  }

  async append(stream: string, data: Record<string, unknown>, opts: { maxLength?: number } = {}): Promise<string> {
    const id = await this.#call((c) =>
      c.xadd(this.#key(stream), "MAXLEN", "~", String(opts.maxLength ?? 100_000), "*", "data", JSON.stringify(data)),
    );
    return id ?? "";
  }

  async read(stream: string, opts: { after?: string; limit?: number; latest?: boolean } = {}): Promise<StreamEntry[]> {
    const limit = opts.limit ?? 100;
    const key = this.#key(stream);
    const rows = await this.#call(async (c) =>
      opts.latest
        ? (await c.xrevrange(key, "+", "-", "COUNT", limit)).reverse()
        : await c.xrange(key, opts.after ? `(${opts.after}` : "-", "+", "COUNT", limit),
    );
    return rows.map(([id, fields]) => ({ id, data: decode(fields) }));
  }

  async publish(channel: string, message: string): Promise<void> {
    await this.#call((c) => c.publish(this.#key(channel), message));
  }

  async subscribe(channel: string, handler: (message: string) => void): Promise<() => Promise<void>> {
    const name = this.#key(channel);
    let set = this.#handlers.get(name);
    if (!set) {
      set = new Set();
      this.#handlers.set(name, set);
      await this.#bounded(this.#subscriber.subscribe(name), `subscribe ${name}`);
    }
    set.add(handler);
    return async () => {
      set.delete(handler);
      if (set.size === 0 && this.#handlers.get(name) === set) {
        this.#handlers.delete(name);
        await this.#bounded(this.#subscriber.unsubscribe(name), `unsubscribe ${name}`);
      }
    };
  }

  /** A real round trip (not the fail-fast gate): `/readyz` asks Redis itself. */
  async ping(): Promise<void> {
    // Just started: give the first connection its chance, as commands get (see #call).
    if (!this.#availability.everReady && this.#availability.down === undefined)
      await this.#availability.waitForFirstReady(FIRST_CONNECT_MS);
    const down = this.#availability.down;
    const client = this.#client;
    let timer: NodeJS.Timeout | undefined;
    // A probe that hangs is worse than one that fails: a Cluster re-asking for its slots (or a command queued behind
    // them) is not bounded by the per-command timeout, so the whole check is.
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${PING_MS} ms`)), PING_MS);
    });
    try {
      await Promise.race([
        (async () => {
          await client.ping();
          // A cluster node answers PING even while the cluster refuses every key (a master lost with no replica
          // to take over): readiness asks for the cluster's own verdict.
          if (client instanceof Cluster) {
            const state = /cluster_state:(\w+)/.exec(String(await client.cluster("INFO")))?.[1];
            if (state !== "ok") throw new Error(`cluster_state:${state ?? "unknown"}`);
          }
        })(),
        late,
      ]);
    } catch (err) {
      throw new ArchwayError("store_unavailable", `redis: ${down ?? (err as Error).message}`, 503, { cause: err });
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    this.#availability.close();
    // A polite QUIT, but a Redis that is down or hung must not hold the shutdown: disconnect after a timeout.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([this.#client.quit(), this.#subscriber.quit()]),
      new Promise((resolve) => {
        timer = setTimeout(resolve, this.#timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    this.#client.disconnect();
    this.#subscriber.disconnect();
  }

  #key(key: string): string {
    return this.#prefix + key;
  }

  /**
   * Runs one command through the gate: a store known down fails at once; before the first connection a command
   * waits for it (bounded); a driver failure becomes a 503 `store_unavailable`, and a timeout marks the store
   * down (a hung Redis gives no other sign) until a probe answers.
   */
  async #call<T>(run: (client: Client) => Promise<T>): Promise<T> {
    const availability = this.#availability;
    if (availability.down !== undefined) throw storeUnavailable(new Error(availability.down));
    if (!availability.everReady && !(await availability.waitForFirstReady(FIRST_CONNECT_MS)))
      throw storeUnavailable(new Error("no connection to redis yet"));
    try {
      return await run(this.#client);
    } catch (err) {
      if (!isUnavailability(err)) throw err;
      if (isTimeout(err)) availability.markDown(`no answer within ${this.#timeoutMs} ms`, { probe: true });
      throw storeUnavailable(err);
    }
  }

  /** Waits for a subscriber command at most one command timeout; it completes on its own once Redis is back. */
  async #bounded(command: Promise<unknown>, what: string): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<"late">((resolve) => {
      timer = setTimeout(() => resolve("late"), this.#timeoutMs);
    });
    const outcome = await Promise.race([command.then(() => "done" as const), late]).catch((err: Error) => err);
    clearTimeout(timer);
    if (outcome === "late")
      this.#log?.warn({ what }, "redis subscriber busy or down: the subscription completes when it is back");
    else if (outcome instanceof Error)
      this.#log?.error({ what, err: outcome.message }, "redis subscriber command failed");
  }

  /**
   * On each connect: warn loudly when Redis would forget Archway's data on a restart, and notice when it already
   * did (the marker key written at the previous connect is gone): that logs everyone out, so it is an incident.
   */
  async #checkDurability(): Promise<void> {
    const log = this.#log;
    try {
      const [aof, save] = await Promise.all([
        this.#client.config("GET", "appendonly"),
        this.#client.config("GET", "save"),
      ]);
      const appendonly = configValue(aof, "appendonly");
      const rdb = configValue(save, "save");
      if (appendonly === undefined || rdb === undefined) throw new Error("CONFIG GET returned nothing");
      const verdict = judgePersistence({ appendonly, save: rdb });
      if (verdict.level === "error") log?.error({ appendonly, save: rdb }, verdict.message);
      else if (verdict.level === "warn") log?.warn({ appendonly, save: rdb }, verdict.message);
      else log?.info({ appendonly }, verdict.message);
    } catch (err) {
      // Managed Redis (ElastiCache, Memorystore, Azure) often refuses CONFIG: say what to check instead.
      log?.warn(
        { err: (err as Error).message },
        "cannot read the Redis persistence settings (CONFIG refused): make sure your Redis keeps data across restarts (AOF), see docs/operations.md",
      );
    }
    try {
      const key = this.#key(MARKER_KEY);
      const current = await this.#client.get(key);
      if (markerVerdict({ hadMarker: this.#marker !== null, current }) === "wiped") {
        const incident: StoreIncident = { type: "store.wiped", marker: this.#marker ?? "" };
        log?.error(
          { incident },
          "INCIDENT: the store lost its data while Archway was running (Redis restarted without persistence, or was flushed): sessions, revocations and store-kept signing keys are gone, earlier tokens fail",
        );
        for (const listener of this.#incidents) listener(incident);
      }
      if (current === null) {
        const value = markerValue();
        await this.#client.set(key, value, "NX");
        this.#marker = (await this.#client.get(key)) ?? value;
      } else this.#marker = current;
    } catch (err) {
      log?.warn({ err: (err as Error).message }, "could not check the store marker");
    }
  }
}

function decode(fields: string[]): Record<string, unknown> {
  const i = fields.indexOf("data");
  if (i < 0 || i + 1 >= fields.length) return {};
  try {
    return JSON.parse(fields[i + 1] as string) as Record<string, unknown>;
  } catch {
    return {};
  }
}

function connect(config: RedisConfig, opts: { offlineQueue: boolean; noTimeout?: boolean }): Client {
  const common: RedisOptions = {
    username: config.username,
    password: config.password,
    db: config.db,
    // Fail fast while Redis is down instead of queueing requests; /readyz reports it.
    // The subscriber's few (un)subscribe commands wait for Redis rather than being dropped after a retry.
    maxRetriesPerRequest: opts.offlineQueue ? null : 1,
    enableOfflineQueue: opts.offlineQueue,
    ...(opts.noTimeout ? {} : { commandTimeout: config.commandTimeoutMs ?? DEFAULT_TIMEOUT_MS }),
    connectTimeout: FIRST_CONNECT_MS,
    // Reconnect soon after Redis is back (at most a second late), without hammering a Redis that is down.
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 5), 1_000),
    ...(config.tls ? { tls: config.caFile ? { ca: readFileSync(config.caFile) } : {} } : {}),
  };
  switch (config.type) {
    case "redis":
      return new Redis(config.url, common);
    case "redis-sentinel":
      return new Redis({ ...common, sentinels: config.sentinels, name: config.name });
    case "redis-cluster":
      return new Cluster(config.nodes, { redisOptions: common, enableOfflineQueue: opts.offlineQueue });
  }
}
