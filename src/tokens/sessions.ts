import { randomUUID } from "node:crypto";
import { type Identity, IdentitySchema } from "../identity/index.js";
import { getJson, type Store, setJson } from "../store/index.js";

/**
 * Who a session belongs to, kept in the store under a random id that Archway's tokens carry (`sid`): tokens
 * stay small, and re-scoping with the token method needs no directory round trip.
 */
export class IdentitySessions {
  readonly #store: Store;
  readonly #ttlMs: number;

  constructor(opts: { store: Store; ttlMs: number }) {
    this.#store = opts.store;
    this.#ttlMs = opts.ttlMs;
  }

  async create(identity: Identity): Promise<string> {
    const sid = randomUUID();
    await setJson(this.#store, `session:${sid}`, identity, { ttlMs: this.#ttlMs });
    return sid;
  }

  async get(sid: string): Promise<Identity | null> {
    return getJson(this.#store, `session:${sid}`, IdentitySchema);
  }

  async end(sid: string): Promise<void> {
    await this.#store.delete(`session:${sid}`);
  }
}
