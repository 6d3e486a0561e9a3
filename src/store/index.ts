/**
 * The store: one small interface for all shared state, with an in-memory implementation (the embedded default)
 * and a Redis one. `createStore` picks by configuration.
 */
import type { StoreConfig } from "../config/index.js";
import { MemoryStore } from "./memory.js";
import { RedisStore } from "./redis.js";
import type { Store } from "./store.js";

export { getJson, setJson, updateJson } from "./json.js";
export { MemoryStore } from "./memory.js";
export { RedisStore } from "./redis.js";
export type { Lock, Store, StreamEntry } from "./store.js";

/** Builds the store named by `config` (memory when absent). */
export function createStore(config: StoreConfig | undefined): Store {
  if (!config || config.type === "memory") return new MemoryStore();
  return new RedisStore(config);
}
