import { z } from "zod";
import type { Audit } from "../audit/index.js";
import type { AccountListSource } from "../identity/index.js";
import { getJson, type Store, setJson } from "../store/index.js";
import type { Person } from "./cloud.js";

/** A change one look found: a person gone from the listing, newly disabled, or enabled again. */
export interface AccountChange {
  person: Person;
  kind: "departed" | "disabled" | "enabled";
  sourceId: string;
}

/** The previous listing: identity id -> [username, 1 when disabled]. Compact: it holds the whole directory. */
const SnapshotSchema = z.object({
  at: z.string(),
  accounts: z.record(z.string(), z.tuple([z.string(), z.union([z.literal(0), z.literal(1)])])),
});
type Snapshot = z.infer<typeof SnapshotSchema>;

/** Where the last listing of a source is kept. */
export function snapshotKey(sourceId: string): string {
  return `offboard:accounts:${sourceId}`;
}

/**
 * Finds who left or was disabled: each source lists every account (ids, usernames and the disabled flag only,
 * paged), and the listing is diffed against the previous one kept in the store. The first listing only sets the
 * baseline. A listing that fails is ignored (a partial one would look like departures), and one that loses more
 * than `maxDepartures` people at once is held: nothing is acted on and the old listing stays, so those people
 * are found again once an operator confirms (raises the limit) or the directory is repaired.
 */
export class DepartureDetector {
  constructor(
    private readonly deps: {
      sources: readonly AccountListSource[];
      store: Store;
      audit: Audit;
      maxDepartures: number;
      pageSize?: number;
      now?: () => Date;
      onError?: (sourceId: string, message: string) => void;
    },
  ) {}

  /**
   * One look at every source: the changes found, and `commit`, which stores the new listings. Call it once the
   * changes are acted on, so a change is never lost to a failure in between (it is found again next time).
   */
  async look(): Promise<{ changes: AccountChange[]; commit: () => Promise<void> }> {
    const all = await Promise.all(this.deps.sources.map((s) => this.#lookAt(s)));
    return {
      changes: all.flatMap((a) => a.changes),
      commit: async () => {
        for (const a of all) await a.commit?.();
      },
    };
  }

  async #lookAt(source: AccountListSource): Promise<{ changes: AccountChange[]; commit?: () => Promise<void> }> {
    if (source.generation !== undefined && !(await this.#current(source.id, source.generation))) {
      this.deps.onError?.(
        source.id,
        "this process's configuration is older than the one another process already used: no look until it is reloaded (SIGHUP)",
      );
      return { changes: [] };
    }
    const accounts: Snapshot["accounts"] = {};
    try {
      for await (const a of source.accounts({ pageSize: this.deps.pageSize ?? 1000 }))
        accounts[a.id] = [a.username, a.disabled ? 1 : 0];
    } catch (err) {
      this.deps.onError?.(source.id, `listing failed, nobody offboarded from it this time: ${(err as Error).message}`);
      return { changes: [] };
    }
    const key = snapshotKey(source.id);
    const previous = await getJson(this.deps.store, key, SnapshotSchema);
    const next: Snapshot = { at: (this.deps.now?.() ?? new Date()).toISOString(), accounts };
    const commit = () => setJson(this.deps.store, key, next);
    if (!previous) return { changes: [], commit };
    const changes: AccountChange[] = [];
    for (const [id, [username, wasDisabled]] of Object.entries(previous.accounts)) {
      const now = accounts[id];
      if (!now) changes.push({ person: { id, username }, kind: "departed", sourceId: source.id });
      else if (now[1] === 1 && wasDisabled === 0)
        changes.push({ person: { id, username: now[0] }, kind: "disabled", sourceId: source.id });
      else if (now[1] === 0 && wasDisabled === 1)
        changes.push({ person: { id, username: now[0] }, kind: "enabled", sourceId: source.id });
    }
    const losses = changes.filter((c) => c.kind !== "enabled").length;
    if (losses > this.deps.maxDepartures) {
      const message = `${losses} people left or were disabled in one look, over offboard.maxDeparturesPerRun = ${this.deps.maxDepartures}: held (nobody offboarded); check the directory, then raise the limit or use 'archway offboard'`;
      this.deps.onError?.(source.id, message);
      await this.deps.audit({ type: "offboard.held", source: source.id, people: losses, reason: message });
      return { changes: [] };
    }
    return { changes, commit };
  }

  /**
   * True when `generation` is at least the newest one used for the source (and records it as the newest): a
   * process still on an older file would otherwise undo what the reloaded one found (a disabled person listed as
   * enabled again is restored).
   */
  async #current(sourceId: string, generation: number): Promise<boolean> {
    const key = generationKey(sourceId);
    const newest = Number((await this.deps.store.get(key)) ?? "0");
    if (generation < newest) return false;
    if (generation > newest) await this.deps.store.set(key, String(generation));
    return true;
  }
}

/** Where the newest configuration generation any process listed a file-based source from is kept. */
function generationKey(sourceId: string): string {
  return `offboard:generation:${sourceId}`;
}

/** The last known username of an identity id, from the stored listings (people who left are still there). */
export async function knownAccount(
  store: Store,
  sourceIds: readonly string[],
  match: (id: string, username: string, sourceId: string) => boolean,
): Promise<{ id: string; username: string; disabled: boolean } | undefined> {
  for (const sourceId of sourceIds) {
    const snap = await getJson(store, snapshotKey(sourceId), SnapshotSchema);
    for (const [id, [username, disabled]] of Object.entries(snap?.accounts ?? {}))
      if (match(id, username, sourceId)) return { id, username, disabled: disabled === 1 };
  }
  return undefined;
}
