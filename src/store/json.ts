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
