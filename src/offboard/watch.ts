import type { Audit } from "../audit/index.js";
import type { AccountEvent, AccountWatch, AccountWatchSource } from "../identity/index.js";
import type { Lock, Store } from "../store/index.js";
import { type AccountChange, knownAccount } from "./detect.js";

/** What {@link DepartureWatch} needs. */
export interface DepartureWatchDeps {
  sources: readonly AccountWatchSource[];
  store: Store;
  audit: Audit;
  /** Acts on one change (the service's `apply`). */
  apply: (change: AccountChange) => Promise<unknown>;
  /** More departures and disables than this from one source within `windowMs` are held, as a look holds them. */
  maxDepartures: number;
  windowMs: number;
  log: { info: (sourceId: string, message: string) => void; error: (sourceId: string, message: string) => void };
  /** How long the lease of a watching process lasts without renewal (default 30 s; renewed every third). */
  leaseMs?: number;
  /** Wait before asking a source that could not be asked again (default 30 s). */
  retryMs?: number;
}

/**
 * Runs the watches of the sources that can watch (LDAP content synchronisation) and acts on what they see at
 * once, through the same path as a look. Exactly one process watches each source: it holds a lease in the store
 * (`offboard:watch:<source>`) and renews it; another worker takes over within a lease when it stops. A burst of
 * departures larger than a look would accept is held the same way (audited `offboard.held`) and left to the look,
 * which holds it too until an operator decides. Changes of one person are acted on in order.
 */
export class DepartureWatch {
  readonly #d: DepartureWatchDeps;
  #stopped = false;
  readonly #running: Promise<void>[] = [];
  readonly #wakers = new Set<() => void>();
  readonly #perPerson = new Map<string, Promise<void>>();

  constructor(deps: DepartureWatchDeps) {
    this.#d = deps;
  }

  start(): void {
    for (const source of this.#d.sources) this.#running.push(this.#run(source));
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const wake of this.#wakers) wake();
    await Promise.allSettled(this.#running);
    await Promise.allSettled([...this.#perPerson.values()]);
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wakers.add(done);
    });
  }

  async #run(source: AccountWatchSource): Promise<void> {
    const leaseMs = this.#d.leaseMs ?? 30_000;
    const retryMs = this.#d.retryMs ?? 30_000;
    const { log } = this.#d;
    while (!this.#stopped) {
      const lease = await this.#d.store.acquireLock(`offboard:watch:${source.id}`, leaseMs).catch(() => null);
      if (!lease) {
        await this.#sleep(leaseMs / 3);
        continue;
      }
      let watch: AccountWatch | { unavailable: string };
      try {
        watch = await source.watchAccounts(this.#handler(source.id));
      } catch (err) {
        log.error(source.id, `cannot start watching (${(err as Error).message}); trying again in ${retryMs / 1000} s`);
        await lease.release().catch(() => false);
        await this.#sleep(retryMs);
        continue;
      }
      if ("unavailable" in watch) {
        log.info(source.id, `not watching (${watch.unavailable}): departures are found by the listing`);
        await lease.release().catch(() => false);
        return;
      }
      await this.#hold(lease, leaseMs);
      await watch.stop().catch(() => undefined);
      await lease.release().catch(() => false);
    }
  }

  /** Renews the lease until stopped or lost (another process then watches; this one stops). */
  async #hold(lease: Lock, leaseMs: number): Promise<void> {
    while (!this.#stopped) {
      await this.#sleep(leaseMs / 3);
      if (this.#stopped) return;
      const kept = await lease.extend(leaseMs).catch(() => false);
      if (!kept) return;
    }
  }

  #handler(sourceId: string) {
    const recent: number[] = [];
    let heldUntil = 0;
    return {
      event: (e: AccountEvent) => {
        if (e.kind !== "enabled") {
          const now = Date.now();
          while (recent.length > 0 && (recent[0] as number) <= now - this.#d.windowMs) recent.shift();
          recent.push(now);
          if (recent.length > this.#d.maxDepartures) {
            if (now >= heldUntil) {
              heldUntil = now + this.#d.windowMs;
              const message = `more than ${this.#d.maxDepartures} people left or were disabled within ${this.#d.windowMs / 1000} s (offboard.maxDeparturesPerRun): held, left to the listing's look; check the directory, then raise the limit or use 'archway offboard'`;
              this.#d.log.error(sourceId, message);
              this.#d
                .audit({ type: "offboard.held", source: sourceId, people: recent.length, reason: message })
                .catch(() => undefined);
            }
            return;
          }
        }
        this.#act(sourceId, e);
      },
      error: (message: string) => this.#d.log.error(sourceId, message),
      ready: (message: string) => this.#d.log.info(sourceId, message),
    };
  }

  /** Acts on one event after the earlier ones of the same person. */
  #act(sourceId: string, e: AccountEvent): void {
    const id = e.account.id;
    const step = (this.#perPerson.get(id) ?? Promise.resolve()).then(async () => {
      let username = e.account.username;
      // Someone the watch never saw (a delete it only knows by entryUUID): the last listing knows the name.
      if (!username)
        username = (await knownAccount(this.#d.store, [sourceId], (known) => known === id))?.username ?? "";
      await this.#d.apply({ person: { id, username }, kind: e.kind, sourceId });
    });
    const settled = step.catch((err: Error) =>
      this.#d.log.error(sourceId, `acting on ${e.kind} of ${id} failed: ${err.message}; the next look finds it again`),
    );
    this.#perPerson.set(id, settled);
    void settled.then(() => {
      if (this.#perPerson.get(id) === settled) this.#perPerson.delete(id);
    });
  }
}
