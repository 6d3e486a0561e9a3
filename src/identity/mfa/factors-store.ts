import { randomBytes } from "node:crypto";
import { z } from "zod";
import { ArchwayError } from "../../errors.js";
import type { Store } from "../../store/index.js";
import { type FactorRecord, FactorRecordSchema } from "./factor.js";

/** What seals and opens the records (the store's {@link Sealer} from `secrets.storeKey`). */
export interface RecordSealer {
  seal(plaintext: string, context: string): string;
  open(value: string, context: string): { plaintext: string };
}

const RecordListSchema = z.object({ factors: z.array(FactorRecordSchema) });
/** How long a change waits for another change of the same person to finish. */
const LOCK_WAIT_MS = 3_000;
const LOCK_TTL_MS = 10_000;

/**
 * Each person's factors, one sealed value per person in the store (`mfa:factors:<person>`): TOTP keys and recovery
 * digests never sit in the store in the clear, and a value copied to another person does not open (the key is the
 * sealing context). Every change, a code's use included, runs under a per-person lock, so two requests with the same
 * code cannot both pass: the read, the check and the write of the new state are one step.
 */
export class FactorStore {
  readonly #store: Store;
  readonly #sealer: RecordSealer;

  constructor(opts: { store: Store; sealer: RecordSealer }) {
    this.#store = opts.store;
    this.#sealer = opts.sealer;
  }

  /** The person's factors (empty when none). */
  async list(personId: string): Promise<FactorRecord[]> {
    const key = factorsKey(personId);
    const value = await this.#store.get(key);
    if (value === null) return [];
    return RecordListSchema.parse(JSON.parse(this.#sealer.open(value, key).plaintext)).factors;
  }

  /**
   * Changes the person's factors under their lock: `change` gets the current list and returns the new one (or
   * undefined to leave it) and a result. An empty list deletes the value.
   */
  async update<T>(
    personId: string,
    change: (factors: FactorRecord[]) => { factors?: FactorRecord[]; result: T },
  ): Promise<T> {
    const lock = await this.#lock(personId);
    try {
      const { factors, result } = change(await this.list(personId));
      if (factors) await this.#write(personId, factors);
      return result;
    } finally {
      await lock.release();
    }
  }

  async #write(personId: string, factors: FactorRecord[]): Promise<void> {
    const key = factorsKey(personId);
    if (factors.length === 0) {
      await this.#store.delete(key);
      return;
    }
    await this.#store.set(key, this.#sealer.seal(JSON.stringify({ factors }), key));
  }

  async #lock(personId: string) {
    const until = Date.now() + LOCK_WAIT_MS;
    for (let pause = 10; ; pause = Math.min(pause * 2, 200)) {
      const lock = await this.#store.acquireLock(`mfa:lock:${personId}`, LOCK_TTL_MS);
      if (lock) return lock;
      if (Date.now() + pause > until)
        throw new ArchwayError("mfa_busy", "another change of this person's factors is running; try again", 503);
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }
}

/** A random id for a factor, an enrolment or a pending sign-in. */
export function newId(bytes = 16): string {
  return randomBytes(bytes).toString("base64url");
}

/** Store key of a person's factors (also the sealing context). */
export function factorsKey(personId: string): string {
  return `mfa:factors:${personId}`;
}
