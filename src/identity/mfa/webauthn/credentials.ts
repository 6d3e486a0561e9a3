import { createHash } from "node:crypto";
import { z } from "zod";
import { ArchwayError } from "../../../errors.js";
import { type Store, updateJson } from "../../../store/index.js";
import type { Identity } from "../../identity.js";
import {
  counterAccepted,
  type PasskeyOwner,
  PasskeyOwnerSchema,
  type PasskeyRecord,
  PasskeyRecordSchema,
} from "./record.js";

/**
 * Seals values before they go to the store and opens them after (the tokens' `Sealer` fits; passed in so that
 * identity does not import tokens). Each value is bound to its store key.
 */
export interface ValueSealer {
  seal(plaintext: string, context: string): string;
  open(value: string, context: string): { plaintext: string };
}

/** At most this many credentials per person: enough for keys, laptops and phones, not a store-filling loop. */
export const MAX_PASSKEYS = 10;

/**
 * Store key of the credential-id index entry naming a credential's owner (usernameless sign-in). Credential ids can
 * be long and are chosen by the authenticator: hashed into the key.
 */
export function passkeyOwnerKey(credentialId: string): string {
  return `mfa:webauthn:credential:${createHash("sha256").update(credentialId).digest("base64url")}`;
}

const keys = {
  list: (personId: string) => `mfa:webauthn:person:${personId}`,
  owner: passkeyOwnerKey,
};

/**
 * The registered passkeys and security keys: one sealed list per person, plus an index from credential id to
 * its owner for usernameless sign-in. Changes to a list run under a store lock, so two sign-ins with the same
 * credential cannot both move its counter.
 */
export class PasskeyCredentials {
  readonly #store: Store;
  readonly #sealer: ValueSealer;
  readonly #lists: PasskeyLists;
  readonly #now: () => number;

  /** `lists` defaults to {@link SealedPasskeyLists} on the same store. */
  constructor(opts: { store: Store; sealer: ValueSealer; lists?: PasskeyLists; now?: () => number }) {
    this.#store = opts.store;
    this.#sealer = opts.sealer;
    this.#lists = opts.lists ?? new SealedPasskeyLists({ store: opts.store, sealer: opts.sealer });
    this.#now = opts.now ?? Date.now;
  }

  /** Every credential of a person, oldest first. */
  list(personId: string): Promise<PasskeyRecord[]> {
    return this.#lists.list(personId);
  }

  /** Who holds a credential (null when no one does, or the index entry no longer opens). */
  async owner(credentialId: string): Promise<PasskeyOwner | null> {
    const key = keys.owner(credentialId);
    const raw = await this.#store.get(key);
    if (raw === null) return null;
    try {
      const parsed = PasskeyOwnerSchema.safeParse(JSON.parse(this.#sealer.open(raw, key).plaintext));
      return parsed.success ? parsed.data : null;
    } catch {
      return null;
    }
  }

  /** Adds a credential for `identity`; refuses a credential already registered (to anyone) or a full list. */
  async add(identity: Identity, record: PasskeyRecord): Promise<void> {
    const parsed = PasskeyRecordSchema.parse(record);
    const ownerKey = keys.owner(parsed.id);
    const owner = this.#sealer.seal(JSON.stringify({ personId: identity.id, identity }), ownerKey);
    if (!(await this.#store.setIfAbsent(ownerKey, owner)))
      throw new ArchwayError("passkey_exists", "this passkey is already registered", 409);
    try {
      await this.#change(identity.id, (list) => {
        if (list.length >= MAX_PASSKEYS)
          throw new ArchwayError("passkey_limit", `at most ${MAX_PASSKEYS} passkeys per person; remove one first`, 409);
        return { list: [...list, parsed], result: undefined };
      });
    } catch (err) {
      await this.#store.delete(ownerKey);
      throw err;
    }
  }

  /** Removes one credential; resolves false when the person has no such credential. */
  async remove(personId: string, credentialId: string): Promise<boolean> {
    const removed = await this.#change(personId, (list) => {
      const kept = list.filter((r) => r.id !== credentialId);
      return { list: kept, result: kept.length !== list.length };
    });
    if (removed) await this.#store.delete(keys.owner(credentialId));
    return removed;
  }

  /** Removes every credential of a person (an administrator's reset); resolves how many there were. */
  async removeAll(personId: string): Promise<number> {
    const list = await this.#change(personId, (current) => ({ list: [], result: current }));
    await Promise.all(list.map((r) => this.#store.delete(keys.owner(r.id))));
    return list.length;
  }

  /**
   * Records a use: the new counter (refused with `passkey_counter` unless {@link counterAccepted}, checked
   * again under the lock) and the time; `identity`, when given, refreshes the index's copy of the person.
   */
  async recordUse(
    personId: string,
    credentialId: string,
    counter: number,
    identity?: Identity,
  ): Promise<PasskeyRecord> {
    const used = await this.#change(personId, (list) => {
      const current = list.find((r) => r.id === credentialId);
      if (!current) throw new ArchwayError("passkey_unknown", "this passkey is not registered", 401);
      if (!counterAccepted(current.counter, counter))
        throw new ArchwayError("passkey_counter", "this passkey's signature counter went backwards", 401);
      const next = { ...current, counter, lastUsedAt: new Date(this.#now()).toISOString() };
      return { list: list.map((r) => (r.id === credentialId ? next : r)), result: next };
    });
    if (identity) {
      const ownerKey = keys.owner(credentialId);
      await this.#store.set(ownerKey, this.#sealer.seal(JSON.stringify({ personId, identity }), ownerKey));
    }
    return used;
  }

  #change<R>(personId: string, change: (list: PasskeyRecord[]) => { list: PasskeyRecord[]; result: R }): Promise<R> {
    return this.#lists.change(personId, change);
  }
}

/**
 * Where each person's list of credentials lives. Changes run one at a time per person (a lock), so the counter
 * check and its write are one step.
 */
export interface PasskeyLists {
  list(personId: string): Promise<PasskeyRecord[]>;
  /** Runs `change` on the current list under the person's lock and writes the list it returns. */
  change<R>(personId: string, change: (list: PasskeyRecord[]) => { list: PasskeyRecord[]; result: R }): Promise<R>;
}

/** One sealed value per person (`mfa:webauthn:person:<id>`), changed under a store lock. */
export class SealedPasskeyLists implements PasskeyLists {
  readonly #store: Store;
  readonly #sealer: ValueSealer;

  constructor(opts: { store: Store; sealer: ValueSealer }) {
    this.#store = opts.store;
    this.#sealer = opts.sealer;
  }

  async list(personId: string): Promise<PasskeyRecord[]> {
    const key = keys.list(personId);
    const raw = await this.#store.get(key);
    return raw === null ? [] : this.#open(JSON.parse(raw) as unknown, key);
  }

  change<R>(personId: string, change: (list: PasskeyRecord[]) => { list: PasskeyRecord[]; result: R }): Promise<R> {
    const key = keys.list(personId);
    return updateJson(this.#store, key, z.string(), (sealed) => {
      const { list, result } = change(sealed === null ? [] : this.#open(sealed, key));
      return { value: list.length === 0 ? null : this.#sealer.seal(JSON.stringify(list), key), result };
    });
  }

  #open(sealed: unknown, key: string): PasskeyRecord[] {
    if (typeof sealed !== "string") return [];
    // A list that does not open is an error, never an empty list: that would let a person "lose" their keys.
    return z.array(PasskeyRecordSchema).parse(JSON.parse(this.#sealer.open(sealed, key).plaintext));
  }
}
