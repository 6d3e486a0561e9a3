import type { z } from "zod";
import type { Store } from "./store.js";

/** Reads a JSON value and validates it; a value that no longer matches the schema reads as absent. */
export async function getJson<S extends z.ZodType>(store: Store, key: string, schema: S): Promise<z.infer<S> | null> {
  const raw = await store.get(key);
  if (raw === null) return null;
  try {
    const parsed = schema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** Writes a JSON value. */
export async function setJson(store: Store, key: string, value: unknown, opts?: { ttlMs?: number }): Promise<void> {
  await store.set(key, JSON.stringify(value), opts);
}

/**
 * Read-modify-write of one JSON value under a store lock (`<key>:lock`), so processes sharing the store never
 * lose each other's changes. `change` gets the current value (null when absent or unreadable) and returns the
 * new one, or null to delete the key. Throws when the lock cannot be had within `waitMs`.
 */
export async function updateJson<S extends z.ZodType, R>(
  store: Store,
  key: string,
  schema: S,
  change: (current: z.infer<S> | null) => { value: z.infer<S> | null; result: R },
  opts: { waitMs?: number } = {},
): Promise<R> {
  const until = Date.now() + (opts.waitMs ?? 10_000);
  for (let wait = 5; ; wait = Math.min(wait * 2, 100)) {
    const lock = await store.acquireLock(`${key}:lock`, 10_000);
    if (lock) {
      try {
        const { value, result } = change(await getJson(store, key, schema));
        if (value === null) await store.delete(key);
        else await setJson(store, key, value);
        return result;
      } finally {
        await lock.release();
      }
    }
    if (Date.now() > until) throw new Error(`store key ${key} stayed locked for ${opts.waitMs ?? 10_000} ms`);
    await new Promise((r) => setTimeout(r, wait));
  }
}
