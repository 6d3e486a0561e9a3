import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";
import { ArchwayError } from "../errors.js";

/** Every sealed value starts with this (the format's version): `seal1.<key id>.<iv>.<ciphertext>.<tag>`. */
const PREFIX = "seal1";
/** HKDF labels: a store key is never used as is, and never for anything but sealing (not shadow passwords). */
const AES_LABEL = "archway/store-seal/v1/aes-256-gcm";
const ID_LABEL = "archway/store-seal/v1/key-id";

interface SealingKey {
  id: string;
  aes: Buffer;
}

function derive(secret: string): SealingKey {
  const ikm = Buffer.from(secret, "utf8");
  const aes = Buffer.from(hkdfSync("sha256", ikm, Buffer.alloc(0), AES_LABEL, 32));
  const id = Buffer.from(hkdfSync("sha256", ikm, Buffer.alloc(0), ID_LABEL, 6)).toString("base64url");
  return { id, aes };
}

/** What {@link Sealer.open} found. */
export interface Opened {
  plaintext: string;
  /** Sealed with a previous key: write it again (sealed with the current one) when convenient. */
  stale: boolean;
}

/**
 * Seals secrets before they go to the store (AES-256-GCM, a fresh 96-bit IV each time) and opens them after.
 * The key comes from `secrets.storeKey` through HKDF; its id travels in the sealed value, so previous keys still
 * open what they sealed while only the current one seals (rotation). Each value is bound to a context (its store
 * key) as associated data: a value copied to another key does not open. Without a key the sealer is disabled and
 * passes values through, refusing only values that are sealed (a process that lacks the key must not guess).
 */
export class Sealer {
  readonly #current: SealingKey | undefined;
  readonly #byId: Map<string, SealingKey>;

  /** `current` seals and opens; each of `previous` only opens. */
  constructor(opts: { current?: string; previous?: readonly string[] } = {}) {
    this.#current = opts.current === undefined ? undefined : derive(opts.current);
    const keys = [...(this.#current ? [this.#current] : []), ...(opts.previous ?? []).map(derive)];
    this.#byId = new Map(keys.reverse().map((k) => [k.id, k]));
  }

  /** False when no store key is configured: values are stored as they are. */
  get enabled(): boolean {
    return this.#current !== undefined;
  }

  /** Seals `plaintext` for the store key `context` (returned unchanged when disabled). */
  seal(plaintext: string, context: string): string {
    const key = this.#current;
    if (!key) return plaintext;
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", key.aes, iv);
    cipher.setAAD(associated(key.id, context));
    const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    return [PREFIX, key.id, iv.toString("base64url"), ciphertext.toString("base64url"), b64(cipher.getAuthTag())].join(
      ".",
    );
  }

  /**
   * Opens a value {@link seal} made for `context`. Throws `ArchwayError` `sealed_unreadable` when it was changed,
   * sealed for another context or with a key this process does not have, or is not sealed while a key is set.
   * Disabled, a value that is not sealed comes back as it is.
   */
  open(value: string, context: string): Opened {
    if (!isSealed(value)) {
      if (!this.enabled) return { plaintext: value, stale: false };
      throw unreadable("it is not sealed");
    }
    const [, id, iv, ciphertext, tag, ...rest] = value.split(".");
    const key = id === undefined ? undefined : this.#byId.get(id);
    if (!key) throw unreadable("it was sealed with a key that is neither secrets.storeKey nor a previous one");
    if (iv === undefined || ciphertext === undefined || tag === undefined || rest.length > 0)
      throw unreadable("it is malformed");
    try {
      const decipher = createDecipheriv("aes-256-gcm", key.aes, Buffer.from(iv, "base64url"), { authTagLength: 16 });
      decipher.setAAD(associated(key.id, context));
      decipher.setAuthTag(Buffer.from(tag, "base64url"));
      const plaintext = Buffer.concat([decipher.update(Buffer.from(ciphertext, "base64url")), decipher.final()]);
      return { plaintext: plaintext.toString("utf8"), stale: key !== this.#current };
    } catch {
      throw unreadable("it was altered or sealed for another entry");
    }
  }
}

/** True for a value in the sealed format (whichever key made it). */
export function isSealed(value: string): boolean {
  return value.startsWith(`${PREFIX}.`);
}

/**
 * The sealer of a configuration's `secrets`: `storeKey` seals, else `shadowPasswordKey` (under the sealing HKDF
 * label, so the two uses never share a key), else nothing is sealed. `previousStoreKeys` only open.
 */
export function storeSealer(secrets: {
  storeKey?: string;
  shadowPasswordKey?: string;
  previousStoreKeys?: readonly string[];
}): Sealer {
  return new Sealer({ current: secrets.storeKey ?? secrets.shadowPasswordKey, previous: secrets.previousStoreKeys });
}

function associated(keyId: string, context: string): Buffer {
  return Buffer.from(`${PREFIX}.${keyId}.${context}`, "utf8");
}

function b64(bytes: Buffer): string {
  return bytes.toString("base64url");
}

function unreadable(why: string): ArchwayError {
  return new ArchwayError("sealed_unreadable", `a sealed value in the store cannot be opened: ${why}`, 500);
}
