import type { Entry } from "ldapts";
import { NoSuchObjectError } from "ldapts";
import { identityId } from "../identity.js";
import type { AccountState, AccountWatch, AccountWatchHandler } from "../source.js";
import { disabledIds } from "./accounts.js";
import type { Directory } from "./directory.js";
import { immutableId, values } from "./entry.js";
import type { LdapSettings } from "./presets.js";
import { SyncConsumer, type SyncConsumerOptions, type SyncEntry } from "./syncrepl/index.js";

interface Known extends AccountState {
  immutable: string;
}

/** An ldapts-shaped entry, so the source's attribute rules (case, objectGUID) read it the same way. */
function asEntry(e: SyncEntry): Entry {
  const entry: Entry = { dn: e.dn };
  for (const [type, vals] of Object.entries(e.attributes))
    entry[type] = vals.every((v) => typeof v === "string") ? (vals as string[]) : vals.map((v) => Buffer.from(v));
  return entry;
}

/**
 * Turns the synchronised content of the people base into account events: an entry gone (deleted, moved out of
 * the base, or no longer matching the people filter) is a departure; a change that leaves a known person locked
 * (`pwdAccountLockedTime`) or matched by the disabled filter is a disable; one that clears it for someone who was
 * disabled is an enable. People the first refresh brings in, or new people, are no event. The disabled filter
 * is asked of the directory itself (one base search per change), so it means exactly what it means to the
 * listing. Events leave in the order the changes arrived.
 */
export class LdapAccountWatch implements AccountWatch {
  readonly #people = new Map<string, Known>();
  readonly #consumer: SyncConsumer;
  #ready = false;
  #chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly deps: {
      sourceId: string;
      settings: LdapSettings;
      dir: Directory;
      pageSize: number;
      handler: AccountWatchHandler;
      consumer: Omit<SyncConsumerOptions, "base" | "filter" | "attributes">;
    },
  ) {
    const s = deps.settings;
    this.#consumer = new SyncConsumer(
      {
        ...deps.consumer,
        base: s.userBaseDn,
        filter: s.userFilter,
        attributes: [s.idAttribute, s.usernameAttribute, ...(s.lockedAttribute ? [s.lockedAttribute] : [])],
      },
      {
        upsert: (entry) => this.#then(() => this.#upsert(entry)),
        remove: (uuid) => this.#then(() => this.#remove(uuid)),
        refreshed: (info) => this.#then(() => this.#refreshed(info.entries)),
        error: (err) => deps.handler.error?.(`syncrepl: ${err.message}; reconnecting`),
      },
    );
  }

  start(): void {
    this.#consumer.start();
  }

  async stop(): Promise<void> {
    await this.#consumer.stop();
    await this.#chain;
  }

  /** Runs `step` after every earlier one (a base search may take a moment; order must hold). */
  #then(step: () => void | Promise<void>): void {
    this.#chain = this.#chain.then(step).catch((err: Error) => this.deps.handler.error?.(`syncrepl: ${err.message}`));
  }

  #emit(kind: "departed" | "disabled" | "enabled", account: AccountState): void {
    this.deps.handler.event({
      kind,
      account: { id: account.id, username: account.username, disabled: account.disabled },
    });
  }

  async #upsert(e: SyncEntry): Promise<void> {
    const s = this.deps.settings;
    const entry = asEntry(e);
    const immutable = immutableId(entry, s.idAttribute) ?? entry.dn;
    const locked = s.lockedAttribute !== undefined && values(entry, s.lockedAttribute).length > 0;
    const known: Known = {
      id: identityId(this.deps.sourceId, immutable),
      immutable,
      username: values(entry, s.usernameAttribute)[0] ?? "",
      disabled: locked,
    };
    // Until the first refresh is done the disabled filter is read in one listing (see #refreshed).
    if (this.#ready && !locked && s.disabledFilter) known.disabled = await this.#matchesDisabled(e.dn);
    const before = this.#people.get(e.uuid);
    this.#people.set(e.uuid, known);
    if (!this.#ready || !before) return;
    if (known.disabled) this.#emit("disabled", known);
    else if (before.disabled) this.#emit("enabled", known);
  }

  #remove(uuid: string): void {
    const before = this.#people.get(uuid);
    this.#people.delete(uuid);
    if (!this.#ready) return;
    // entryUUID as the id: someone this watch never saw is still named exactly.
    const id =
      before?.id ??
      (this.deps.settings.idAttribute.toLowerCase() === "entryuuid" ? identityId(this.deps.sourceId, uuid) : undefined);
    if (id) this.#emit("departed", { id, username: before?.username ?? "", disabled: before?.disabled ?? false });
  }

  async #refreshed(entries: number): Promise<void> {
    if (this.#ready) return;
    try {
      const disabled = await disabledIds(this.deps.dir, this.deps.settings, this.deps.pageSize);
      for (const known of this.#people.values()) if (disabled.has(known.immutable)) known.disabled = true;
    } finally {
      this.#ready = true;
    }
    this.deps.handler.ready?.(`syncrepl: watching ${entries} people under ${this.deps.settings.userBaseDn}`);
  }

  async #matchesDisabled(dn: string): Promise<boolean> {
    const s = this.deps.settings;
    try {
      const found = await this.deps.dir.search(dn, {
        scope: "base",
        filter: `(&${s.userFilter}${s.disabledFilter})`,
        attributes: ["1.1"],
      });
      return found.length > 0;
    } catch (err) {
      // Deleted meanwhile: its delete follows.
      if (err instanceof NoSuchObjectError) return false;
      throw err;
    }
  }
}
