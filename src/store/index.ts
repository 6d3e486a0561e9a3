/**
 * The store: one small interface for all shared state, with an in-memory implementation (the embedded default)
 * and a Redis one. `createStore` picks by configuration.
 */
import type { StoreConfig } from "../config/index.js";
import { MemoryStore } from "./memory.js";
import { RedisStore, type RedisStoreOptions } from "./redis.js";
import type { Store } from "./store.js";

export { isUnavailability, LogLimiter, redisErrorListener } from "./availability.js";
export { judgePersistence, type Persistence } from "./durability.js";
export { getJson, setJson, updateJson } from "./json.js";
export { MemoryStore } from "./memory.js";
export { RedisStore, type RedisStoreOptions, type StoreIncident } from "./redis.js";
export type { CounterChange, Lock, Store, StreamEntry } from "./store.js";

/** Builds the store named by `config` (memory when absent); `opts.log` receives Redis errors and incidents. */
export function createStore(config: StoreConfig | undefined, opts: RedisStoreOptions = {}): Store {
  if (!config || config.type === "memory") return new MemoryStore();
  return new RedisStore(config, opts);
}
