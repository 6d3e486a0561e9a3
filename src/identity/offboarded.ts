import { z } from "zod";
import { getJson, type Store, updateJson } from "../store/index.js";

const EntrySchema = z.object({
  username: z.string(),
  /** Why: left the directory, disabled there, an operator's kill switch, or the upstream said so. */
  cause: z.enum(["departed", "disabled", "kill-switch", "upstream"]),
  reason: z.string(),
  at: z.string(),
  /** Epoch ms after which the entry is dropped (departed people: nothing of theirs outlives it). */
  until: z.number().optional(),
});
/** Why and since when a person is offboarded. */
export type OffboardedEntry = z.infer<typeof EntrySchema>;
const MapSchema = z.record(z.string(), EntrySchema);

const KEY = "offboard:people";

/**
 * The people Archway has offboarded and must keep out until an operator undoes it (or the directory enables
 * them again): logins are refused, and sync neither provisions nor re-enables them, even while the directory
 * still lists them (the kill switch) or a stale session still names them (a departure). One JSON map in the
 * store, read whole: it holds the few people offboarded at any time, not the directory.
 */
export class OffboardedPeople {
  readonly #store: Store;
  readonly #now: () => number;

  constructor(opts: { store: Store; now?: () => number }) {
    this.#store = opts.store;
    this.#now = opts.now ?? Date.now;
  }

  /** Every offboarded person by identity id (expired entries left out). */
  async all(): Promise<Map<string, OffboardedEntry>> {
    const now = this.#now();
    const map = (await getJson(this.#store, KEY, MapSchema)) ?? {};
    return new Map(Object.entries(map).filter(([, e]) => e.until === undefined || e.until > now));
  }

  async get(identityId: string): Promise<OffboardedEntry | undefined> {
    return (await this.all()).get(identityId);
  }

  /** Records (or replaces) a person's entry. */
  async add(identityId: string, entry: OffboardedEntry): Promise<void> {
    const now = this.#now();
    await updateJson(this.#store, KEY, MapSchema, (current) => {
      const next = Object.fromEntries(
        Object.entries(current ?? {}).filter(([, e]) => e.until === undefined || e.until > now),
      );
      next[identityId] = entry;
      return { value: next, result: undefined };
    });
  }

  /** Lets a person back in; resolves the entry that was removed, if any. */
  async remove(identityId: string): Promise<OffboardedEntry | undefined> {
    return updateJson(this.#store, KEY, MapSchema, (current) => {
      const next = { ...(current ?? {}) };
      const removed = next[identityId];
      delete next[identityId];
      return { value: next, result: removed };
    });
  }
}
