import { createHash } from "node:crypto";
import { z } from "zod";
import { ArchwayError } from "../errors.js";
import { getJson, type Store, setJson } from "../store/index.js";
import type { Identity } from "./identity.js";

/** A public key a person added on the web pages, as Archway stores it. */
export const StoredKeySchema = z
  .object({
    /** `type base64` without the comment. */
    publicKey: z.string(),
    type: z.string(),
    bits: z.number().int(),
    comment: z.string(),
    /** `SHA256:...`, as `ssh-keygen -l` prints it. */
    fingerprint: z.string(),
    addedAt: z.string(),
  })
  .strict();
export type StoredKey = z.infer<typeof StoredKeySchema>;

const KeyListSchema = z.array(StoredKeySchema);

/** At most this many stored keys per person: a list, not a key server. */
export const MAX_STORED_KEYS = 20;
const MAX_COMMENT = 100;

/**
 * Parses and checks one OpenSSH public key line: a supported type (ed25519, ECDSA P-256/384/521, RSA of at least
 * 2048 bits; no DSA, no FIDO `sk-` keys, which Nova does not accept everywhere), a well-formed blob whose inner
 * type matches, and a comment of printable characters. Throws `ArchwayError("key_invalid", ..., 400)` saying why.
 */
export function parseOpenSshKey(line: string): Omit<StoredKey, "addedAt"> {
  const invalid = (why: string) => new ArchwayError("key_invalid", `not accepted: ${why}`, 400);
  const trimmed = line.trim();
  if (/[\r\n]/.test(trimmed)) throw invalid("one key per line, please");
  const [type, blob, ...rest] = trimmed.split(/[ \t]+/);
  if (!type || !blob) throw invalid("expected '<type> <base64 key> [comment]'");
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(blob) || blob.length > 4096) throw invalid("the key part is not base64");
  const comment = rest.join(" ");
  if (comment.length > MAX_COMMENT) throw invalid(`the comment is longer than ${MAX_COMMENT} characters`);
  for (const ch of comment) {
    const code = ch.codePointAt(0) ?? 0;
    if (code < 0x20 || (code >= 0x7f && code < 0xa0)) throw invalid("the comment has control characters");
  }
  const reader = new SshReader(Buffer.from(blob, "base64"));
  const inner = reader.string().toString("latin1");
  if (inner !== type) throw invalid(`the key says it is '${inner}' but the line says '${type}'`);
  let bits: number;
  if (type === "ssh-ed25519") {
    if (reader.string().length !== 32) throw invalid("an ed25519 key has 32 bytes");
    bits = 256;
  } else if (type.startsWith("ecdsa-sha2-")) {
    const curve = reader.string().toString("latin1");
    const sizes: Record<string, number> = { nistp256: 256, nistp384: 384, nistp521: 521 };
    const size = sizes[curve];
    if (!size || type !== `ecdsa-sha2-${curve}`) throw invalid(`unsupported ECDSA curve '${curve}'`);
    reader.string();
    bits = size;
  } else if (type === "ssh-rsa") {
    reader.string(); // public exponent
    const modulus = reader.string();
    const significant = modulus[0] === 0 ? modulus.subarray(1) : modulus;
    bits = significant.length * 8 - Math.clz32(significant[0] ?? 0) + 24;
    if (bits < 2048) throw invalid(`RSA keys need at least 2048 bits (this one has ${bits})`);
  } else {
    throw invalid(`key type '${type}' is not supported (use ssh-ed25519, ecdsa-sha2-nistp256/384/521 or ssh-rsa)`);
  }
  if (!reader.done()) throw invalid("the key has trailing bytes");
  const digest = createHash("sha256").update(Buffer.from(blob, "base64")).digest("base64").replace(/=+$/, "");
  return { publicKey: `${type} ${blob}`, type, bits, comment, fingerprint: `SHA256:${digest}` };
}

class SshReader {
  #at = 0;
  constructor(readonly buf: Buffer) {}
  string(): Buffer {
    if (this.#at + 4 > this.buf.length)
      throw new ArchwayError("key_invalid", "not accepted: the key is truncated", 400);
    const len = this.buf.readUInt32BE(this.#at);
    const start = this.#at + 4;
    if (start + len > this.buf.length) throw new ArchwayError("key_invalid", "not accepted: the key is truncated", 400);
    this.#at = start + len;
    return this.buf.subarray(start, start + len);
  }
  done(): boolean {
    return this.#at === this.buf.length;
  }
}

/**
 * SSH public keys people add themselves (on the web pages or `/api/v1/me/keys`), kept in the store per identity.
 * Sync treats them like the directory's keys: {@link StoredKeys.merge} adds them to an identity before policies
 * turn keys into desired keypairs.
 */
export class StoredKeys {
  readonly #store: Store;
  readonly #now: () => Date;

  constructor(opts: { store: Store; now?: () => Date }) {
    this.#store = opts.store;
    this.#now = opts.now ?? (() => new Date());
  }

  /** The person's stored keys, oldest first. */
  async list(identityId: string): Promise<StoredKey[]> {
    return (await getJson(this.#store, key(identityId), KeyListSchema)) ?? [];
  }

  /**
   * Validates and stores a key. Refuses (`key_duplicate`, 409) a key the person already has, stored or from the
   * directory (`identity.sshKeys`), whatever its comment.
   */
  async add(identity: Identity, line: string): Promise<StoredKey> {
    const parsed = parseOpenSshKey(line);
    const lock = await this.#store.acquireLock(`${key(identity.id)}:lock`, 5_000);
    if (!lock) throw new ArchwayError("busy", "another change to your keys is in progress; try again", 409);
    try {
      const keys = await this.list(identity.id);
      const directory = identity.sshKeys.map((k) => k.trim().split(/\s+/).slice(0, 2).join(" "));
      if (keys.some((k) => k.fingerprint === parsed.fingerprint) || directory.includes(parsed.publicKey))
        throw new ArchwayError("key_duplicate", "you already have this key", 409);
      if (keys.length >= MAX_STORED_KEYS)
        throw new ArchwayError("key_limit", `at most ${MAX_STORED_KEYS} keys; remove one first`, 409);
      const stored: StoredKey = { ...parsed, addedAt: this.#now().toISOString() };
      await setJson(this.#store, key(identity.id), [...keys, stored]);
      return stored;
    } finally {
      await lock.release();
    }
  }

  /** Removes a stored key by fingerprint; resolves false when the person had no such key. */
  async remove(identityId: string, fingerprint: string): Promise<boolean> {
    const keys = await this.list(identityId);
    const kept = keys.filter((k) => k.fingerprint !== fingerprint);
    if (kept.length === keys.length) return false;
    await setJson(this.#store, key(identityId), kept);
    return true;
  }

  /** The identity with its stored keys added to `sshKeys` (directory keys first, no duplicates). */
  async merge(identity: Identity): Promise<Identity> {
    const stored = await this.list(identity.id);
    if (stored.length === 0) return identity;
    const seen = new Set(identity.sshKeys.map((k) => k.trim().split(/\s+/).slice(0, 2).join(" ")));
    const extra = stored
      .filter((k) => !seen.has(k.publicKey))
      .map((k) => (k.comment ? `${k.publicKey} ${k.comment}` : k.publicKey));
    return { ...identity, sshKeys: [...identity.sshKeys, ...extra] };
  }
}

const key = (identityId: string) => `keys:stored:${identityId}`;
