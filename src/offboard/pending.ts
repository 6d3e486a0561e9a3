import { z } from "zod";
import { getJson, type Store, updateJson } from "../store/index.js";

const EntrySchema = z.object({
  username: z.string(),
  /** Offboard (disable) or restore (enable again) in that cloud. */
  action: z.enum(["offboard", "restore"]),
  reason: z.string(),
  since: z.string(),
  attempts: z.number().int(),
  /** Epoch ms of the next attempt. */
  nextAt: z.number(),
  lastError: z.string(),
});
/** One person waiting for one cloud to come back. */
export type PendingEntry = z.infer<typeof EntrySchema>;
const MapSchema = z.record(z.string(), z.record(z.string(), EntrySchema));
/** Pending work: cloud id -> identity id -> entry. */
export type PendingMap = z.infer<typeof MapSchema>;

const KEY = "offboard:pending";
const MAX_BACKOFF_MS = 15 * 60_000;

/**
 * Offboarding (and restores) a cloud could not take because it was down: persisted in the store so any worker
 * retries it, with a backoff that doubles per attempt, until the cloud answers. One JSON map, changed under a
 * store lock; it holds only what is waiting.
 */
export class PendingOffboards {
  constructor(
    private readonly store: Store,
    private readonly opts: { retryMs: number; now: () => number },
  ) {}

  async all(): Promise<PendingMap> {
    return (await getJson(this.store, KEY, MapSchema)) ?? {};
  }

  /** The entries whose next attempt is due, per cloud. */
  async due(): Promise<[cloudId: string, identityId: string, entry: PendingEntry][]> {
    const now = this.opts.now();
    return Object.entries(await this.all()).flatMap(([cloudId, people]) =>
      Object.entries(people).flatMap(([id, e]) => (e.nextAt <= now ? [[cloudId, id, e] as const] : [])),
    ) as [string, string, PendingEntry][];
  }

  /**
   * Records outcomes: a failure adds or reschedules the entry, a success removes it; either replaces whatever
   * else waited for that person and cloud (a restore supersedes an offboard still waiting, and back).
   */
  async record(
    outcomes: {
      cloudId: string;
      identityId: string;
      ok: boolean;
      entry: Omit<PendingEntry, "attempts" | "nextAt" | "since">;
    }[],
  ): Promise<void> {
    if (outcomes.length === 0) return;
    const now = this.opts.now();
    await updateJson(this.store, KEY, MapSchema, (current) => {
      const map = current ?? {};
      for (const o of outcomes) {
        const people = map[o.cloudId] ?? {};
        const before = people[o.identityId];
        // The newest action for a person and cloud wins: done, nothing waits; failed, it replaces what waited.
        if (o.ok) delete people[o.identityId];
        else {
          const attempts = before?.action === o.entry.action ? before.attempts + 1 : 1;
          people[o.identityId] = {
            ...o.entry,
            since: before?.action === o.entry.action ? before.since : new Date(now).toISOString(),
            attempts,
            nextAt: now + Math.min(this.opts.retryMs * 2 ** (attempts - 1), MAX_BACKOFF_MS),
          };
        }
        if (Object.keys(people).length > 0) map[o.cloudId] = people;
        else delete map[o.cloudId];
      }
      return { value: Object.keys(map).length > 0 ? map : null, result: undefined };
    });
  }

  /** Forgets a person everywhere (a restore replaces what was waiting). */
  async forget(identityId: string): Promise<void> {
    await updateJson(this.store, KEY, MapSchema, (current) => {
      const map = current ?? {};
      for (const [cloudId, people] of Object.entries(map)) {
        delete people[identityId];
        if (Object.keys(people).length === 0) delete map[cloudId];
      }
      return { value: Object.keys(map).length > 0 ? map : null, result: undefined };
    });
  }
}
