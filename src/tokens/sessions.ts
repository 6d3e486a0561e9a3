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
  // A few seconds of local memory spare the store a read and a parse per request; sign-out is enforced by
  // token revocation, which is checked in the store on every use.
  readonly #recent = new Map<string, { until: number; identity: Identity }>();
  static readonly LOCAL_MS = 5_000;

  constructor(opts: { store: Store; ttlMs: number }) {
    this.#store = opts.store;
    this.#ttlMs = opts.ttlMs;
  }

  async create(identity: Identity): Promise<string> {
    const sid = randomUUID();
    await setJson(this.#store, `session:${sid}`, identity, { ttlMs: this.#ttlMs });
    return sid;
  }

  /** The session's identity if this process read it in the last few seconds: {@link get} without waiting. */
  recent(sid: string): Identity | undefined {
    const hit = this.#recent.get(sid);
    return hit && hit.until > Date.now() ? hit.identity : undefined;
  }

  async get(sid: string): Promise<Identity | null> {
    const now = Date.now();
    const hit = this.#recent.get(sid);
    if (hit && hit.until > now) return hit.identity;
    const identity = await getJson(this.#store, `session:${sid}`, IdentitySchema);
    if (identity) {
      if (this.#recent.size >= 10_000) this.#recent.clear();
      this.#recent.set(sid, { until: now + IdentitySessions.LOCAL_MS, identity });
    } else this.#recent.delete(sid);
    return identity;
  }

  async end(sid: string): Promise<void> {
    this.#recent.delete(sid);
    await this.#store.delete(`session:${sid}`);
  }
}
