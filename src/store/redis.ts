import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { Cluster, Redis, type RedisOptions } from "ioredis";
import type { StoreConfig } from "../config/index.js";
import type { CounterChange, Lock, Store, StreamEntry } from "./store.js";

// Delete only if the caller still holds the lock (the token matches): a lock that expired and was taken by
// another process must not be released by the late first holder.
const RELEASE_LOCK = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) else return 0 end`;
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

type RedisConfig = Exclude<StoreConfig, { type: "memory" }>;
type Client = Redis | Cluster;

/** The production store: one Redis (or Sentinel/Cluster) shared by every Archway process. */
export class RedisStore implements Store {
  readonly kind = "redis" as const;
  readonly #client: Client;
  readonly #subscriber: Client;
  readonly #prefix: string;
  readonly #handlers = new Map<string, Set<(message: string) => void>>();

  constructor(config: RedisConfig) {
    this.#prefix = config.keyPrefix;
    this.#client = connect(config);
    this.#subscriber = connect(config);
    this.#subscriber.on("message", (channel: string, message: string) => {
      for (const handler of this.#handlers.get(channel) ?? []) handler(message);
    });
  }

  /** The underlying ioredis client (BullMQ shares its connection settings). */
  get client(): Client {
    return this.#client;
  }

  async get(key: string): Promise<string | null> {
    return this.#client.get(this.#key(key));
  }

  async set(key: string, value: string, opts: { ttlMs?: number } = {}): Promise<void> {
    if (opts.ttlMs === undefined) await this.#client.set(this.#key(key), value);
    else await this.#client.set(this.#key(key), value, "PX", Math.max(1, Math.ceil(opts.ttlMs)));
  }

  async setIfAbsent(key: string, value: string, opts: { ttlMs?: number } = {}): Promise<boolean> {
    const reply =
      opts.ttlMs === undefined
        ? await this.#client.set(this.#key(key), value, "NX")
        : await this.#client.set(this.#key(key), value, "PX", Math.max(1, Math.ceil(opts.ttlMs)), "NX");
    return reply === "OK";
  }

  async delete(key: string): Promise<boolean> {
    return (await this.#client.del(this.#key(key))) > 0;
  }

  async increment(key: string, opts: { ttlMs: number; by?: number }): Promise<number> {
    const reply = await this.#client.eval(INCREMENT, 1, this.#key(key), opts.by ?? 1, Math.ceil(opts.ttlMs));
    return Number(reply);
  }

  async decrement(key: string, opts: { by?: number } = {}): Promise<number> {
    return Number(await this.#client.eval(DECREMENT, 1, this.#key(key), opts.by ?? 1));
  }

  async addToCounters(changes: readonly CounterChange[]): Promise<number[]> {
    // A cluster cannot run one script over keys in different slots: one script per counter, sent together.
    if (this.#client instanceof Cluster)
      return Promise.all(
        changes.map((c) => (c.by < 0 ? this.decrement(c.key, { by: -c.by }) : this.increment(c.key, c))),
      );
    const args = changes.flatMap((c) => [c.by, Math.max(1, Math.ceil(c.ttlMs))]);
    const reply = (await this.#client.eval(
      ADD_TO_COUNTERS,
      changes.length,
      ...changes.map((c) => this.#key(c.key)),
      ...args,
    )) as unknown[];
    return reply.map(Number);
  }

  async acquireLock(key: string, ttlMs: number): Promise<Lock | null> {
    const token = randomUUID();
    if (!(await this.setIfAbsent(key, token, { ttlMs }))) return null;
    return {
      key,
      release: async () => Number(await this.#client.eval(RELEASE_LOCK, 1, this.#key(key), token)) === 1,
    };
  }

  async append(stream: string, data: Record<string, unknown>, opts: { maxLength?: number } = {}): Promise<string> {
    const id = await this.#client.xadd(
      this.#key(stream),
      "MAXLEN",
      "~",
      String(opts.maxLength ?? 100_000),
      "*",
      "data",
      JSON.stringify(data),
    );
    return id ?? "";
  }

  async read(stream: string, opts: { after?: string; limit?: number; latest?: boolean } = {}): Promise<StreamEntry[]> {
    const limit = opts.limit ?? 100;
    const key = this.#key(stream);
    const rows = opts.latest
      ? (await this.#client.xrevrange(key, "+", "-", "COUNT", limit)).reverse()
      : await this.#client.xrange(key, opts.after ? `(${opts.after}` : "-", "+", "COUNT", limit);
    return rows.map(([id, fields]) => ({ id, data: decode(fields) }));
  }

  async publish(channel: string, message: string): Promise<void> {
    await this.#client.publish(this.#key(channel), message);
  }

  async subscribe(channel: string, handler: (message: string) => void): Promise<() => Promise<void>> {
    const name = this.#key(channel);
    let set = this.#handlers.get(name);
    if (!set) {
      set = new Set();
      this.#handlers.set(name, set);
      await this.#subscriber.subscribe(name);
    }
    set.add(handler);
    return async () => {
      set.delete(handler);
      if (set.size === 0 && this.#handlers.get(name) === set) {
        this.#handlers.delete(name);
        await this.#subscriber.unsubscribe(name);
      }
    };
  }

  async ping(): Promise<void> {
    await this.#client.ping();
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.#client.quit(), this.#subscriber.quit()]);
    this.#client.disconnect();
    this.#subscriber.disconnect();
  }

  #key(key: string): string {
    return this.#prefix + key;
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

function connect(config: RedisConfig): Client {
  const common: RedisOptions = {
    username: config.username,
    password: config.password,
    db: config.db,
    // Fail fast while Redis is down instead of queueing requests forever; /readyz reports it.
    maxRetriesPerRequest: 2,
    enableOfflineQueue: true,
    connectTimeout: 5_000,
    retryStrategy: (times) => Math.min(times * 200, 2_000),
    ...(config.tls ? { tls: config.caFile ? { ca: readFileSync(config.caFile) } : {} } : {}),
  };
  switch (config.type) {
    case "redis":
      return new Redis(config.url, common);
    case "redis-sentinel":
      return new Redis({ ...common, sentinels: config.sentinels, name: config.name });
    case "redis-cluster":
      return new Cluster(config.nodes, { redisOptions: common });
  }
}
