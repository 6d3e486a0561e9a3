import { createHash } from "node:crypto";
import type { FactorKind, FactorRecord } from "../factor.js";
import type { FactorStore } from "../factors-store.js";
import type { PasskeyLists } from "./credentials.js";
import { type PasskeyRecord, PasskeyRecordSchema } from "./record.js";

/**
 * The factor id of a credential: credential ids are chosen by authenticators and can be long, factor ids travel in
 * forms (`/mfa`'s remove takes ids of up to 100 characters).
 */
export function passkeyFactorId(credentialId: string): string {
  return `webauthn-${createHash("sha256").update(credentialId).digest("base64url").slice(0, 32)}`;
}

/**
 * Passkeys as a kind of second factor: they count as enrolled (primary) factors for the second step and the
 * last-factor rule, and are listed and reset with the others. A passkey answers a challenge, never a typed code,
 * so the code check always misses.
 */
export const webauthnKind: FactorKind = {
  kind: "webauthn",
  primary: true,
  check: () => ({ matched: false }),
  describe: () => ({}),
};

/** What a factor record keeps in `secret` (the rest maps to the record's own fields). */
const SecretSchema = PasskeyRecordSchema.omit({ counter: true, name: true, createdAt: true, lastUsedAt: true });

function toPasskey(factor: FactorRecord): PasskeyRecord {
  const counter = factor.state.counter;
  return PasskeyRecordSchema.parse({
    ...SecretSchema.parse(JSON.parse(factor.secret)),
    counter: typeof counter === "number" ? counter : 0,
    name: factor.label,
    createdAt: new Date(factor.createdAt).toISOString(),
    ...(factor.lastUsedAt !== undefined ? { lastUsedAt: new Date(factor.lastUsedAt).toISOString() } : {}),
  });
}

function toFactor(passkey: PasskeyRecord): FactorRecord {
  const { counter, name, createdAt, lastUsedAt, ...secret } = passkey;
  return {
    id: passkeyFactorId(passkey.id),
    kind: "webauthn",
    label: name,
    createdAt: Date.parse(createdAt),
    ...(lastUsedAt ? { lastUsedAt: Date.parse(lastUsedAt) } : {}),
    secret: JSON.stringify(secret),
    state: { counter },
  };
}

/** Passkeys kept in the factor store, as `webauthn` factors beside the person's others (one sealed value, one lock). */
export class FactorPasskeyLists implements PasskeyLists {
  readonly #factors: FactorStore;

  constructor(factors: FactorStore) {
    this.#factors = factors;
  }

  async list(personId: string): Promise<PasskeyRecord[]> {
    return (await this.#factors.list(personId)).filter((f) => f.kind === "webauthn").map(toPasskey);
  }

  change<R>(personId: string, change: (list: PasskeyRecord[]) => { list: PasskeyRecord[]; result: R }): Promise<R> {
    return this.#factors.update(personId, (factors) => {
      const { list, result } = change(factors.filter((f) => f.kind === "webauthn").map(toPasskey));
      return { factors: [...factors.filter((f) => f.kind !== "webauthn"), ...list.map(toFactor)], result };
    });
  }
}

/** The credential id of a `webauthn` factor (null for other kinds or a record that does not parse). */
export function credentialIdOf(factor: FactorRecord): string | null {
  if (factor.kind !== "webauthn") return null;
  try {
    return toPasskey(factor).id;
  } catch {
    return null;
  }
}
