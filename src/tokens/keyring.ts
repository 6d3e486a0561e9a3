import type { CryptoKey as JoseKey, JWK } from "jose";
import { readSigningKeyFiles, type SigningAlgorithm } from "../config/index.js";
import { ArchwayError, isArchwayError, STORE_UNAVAILABLE } from "../errors.js";
import type { Store } from "../store/index.js";
import { isSealed, Sealer } from "./sealed.js";
import {
  generateStoredKey,
  type ImportedKey,
  importStoredKey,
  type StoredKey,
  StoredRingSchema,
  safeJson,
  storedKeyFromFile,
} from "./stored-keys.js";

export type { SigningAlgorithm } from "../config/index.js";

/** A key ready to sign with. */
export interface SigningKey {
  kid: string;
  alg: SigningAlgorithm;
  privateKey: JoseKey | Uint8Array;
}

/** A key ready to verify with. */
export interface VerificationKey {
  kid: string;
  alg: SigningAlgorithm;
  publicKey: JoseKey | Uint8Array;
  publicJwk: JWK;
}

interface KeyRingOptions {
  store: Store;
  /** The algorithm of Archway's own tokens: {@link KeyRing.signingKey} without an argument. */
  algorithm: SigningAlgorithm;
  /** More algorithms with an active key each (RS256 for relying parties that accept nothing else). */
  additionalAlgorithms?: readonly SigningAlgorithm[];
  /** A new key is made once the newest of its algorithm is older than this. */
  rotateAfterMs: number;
  /** How long a replaced key still verifies; must exceed the longest token lifetime. */
  overlapMs: number;
  /** `files`: keys are PKCS#8 PEM or private JWK files in `dir` (rotated by the operator; newest name signs). */
  source?: "store" | "files";
  dir?: string;
  /** Seals the ring in the store (private keys never sit there in the clear); disabled: stored as JSON. */
  sealer?: Sealer;
  now?: () => number;
  /** How long a process trusts its cached copy of the ring before re-reading the store. */
  cacheMs?: number;
}

const RING_KEY = "tokens:keyring";
const LOCK_KEY = "tokens:keyring:lock";

/**
 * The signing keys, shared by every Archway process through the store: for each configured algorithm one key
 * signs and recent ones still verify (rotation with an overlap window). `kid` is the RFC 7638 thumbprint, so a
 * relying party that caches a JWKS (mod_auth_openidc does for an hour) sees a new `kid` and fetches again.
 */
export class KeyRing {
  readonly #opts: Required<Omit<KeyRingOptions, "dir">> & { dir?: string };
  readonly #algorithms: readonly SigningAlgorithm[];
  #cache: { at: number; signing: Map<SigningAlgorithm, SigningKey>; verifying: VerificationKey[] } | undefined;
  #imported = new Map<string, ImportedKey>();

  constructor(opts: KeyRingOptions) {
    this.#opts = {
      source: "store",
      now: Date.now,
      cacheMs: 5_000,
      additionalAlgorithms: [],
      sealer: new Sealer(),
      ...opts,
    };
    this.#algorithms = [...new Set([opts.algorithm, ...(opts.additionalAlgorithms ?? [])])];
  }

  /** Every algorithm the ring signs with, Archway's own first (discovery lists them). */
  get algorithms(): readonly SigningAlgorithm[] {
    return this.#algorithms;
  }

  /** The key to sign with now for `alg` (Archway's own algorithm by default), creating or rotating one if due. */
  async signingKey(alg: SigningAlgorithm = this.#opts.algorithm): Promise<SigningKey> {
    const key = (await this.#load()).signing.get(alg);
    if (!key) throw new ArchwayError("keys_missing", `no ${alg} signing key is available`, 500);
    return key;
  }

  /** Every key that may still verify a token: Archway's own algorithm first, newest first. */
  async verificationKeys(): Promise<VerificationKey[]> {
    return (await this.#load()).verifying;
  }

  /**
   * {@link verificationKeys} without waiting, while this process's copy is fresh; undefined when it is due to be
   * read again (then call the async one). Token checks on every request use it to stay off the promise path.
   */
  cachedVerificationKeys(): VerificationKey[] | undefined {
    const cache = this.#cache;
    return cache && this.#opts.now() - cache.at < this.#opts.cacheMs ? cache.verifying : undefined;
  }

  /** The public JWKS (`/.well-known/jwks.json`). */
  async jwks(): Promise<{ keys: JWK[] }> {
    return { keys: (await this.verificationKeys()).map((k) => k.publicJwk) };
  }

  /** Makes a new signing key for every configured algorithm now, keeping older ones for the overlap window. */
  async rotate(): Promise<void> {
    if (this.#opts.source === "files") {
      throw new ArchwayError("keys_external", "signing keys come from files: add a new key file to rotate", 400);
    }
    await this.#withLock(async () => {
      const { ring } = await this.#readRing();
      const made = await Promise.all(this.#algorithms.map((alg) => generateStoredKey(alg, this.#opts.now())));
      await this.#save([...made, ...ring]);
    });
    this.#cache = undefined;
  }

  async #load() {
    const now = this.#opts.now();
    if (this.#cache && now - this.#cache.at < this.#opts.cacheMs) return this.#cache;
    let ring: StoredKey[];
    try {
      ring = this.#opts.source === "files" ? await this.#readFiles() : await this.#ringFromStore(now);
    } catch (err) {
      // The store is down: keep verifying and publishing the keys this process already holds (issue 23).
      if (this.#cache && isArchwayError(err) && err.code === STORE_UNAVAILABLE) return this.#cache;
      throw err;
    }
    if (ring.length === 0) throw new ArchwayError("keys_missing", "no signing key is available", 500);
    const imported = new Map<string, ImportedKey>();
    for (const key of ring) imported.set(key.kid, this.#imported.get(key.kid) ?? (await importStoredKey(key)));
    this.#imported = imported;
    const signing = new Map<SigningAlgorithm, SigningKey>();
    // The ring is newest first: the first key of each algorithm signs.
    for (const key of ring) {
      if (!signing.has(key.alg) && this.#algorithms.includes(key.alg))
        signing.set(key.alg, (imported.get(key.kid) as ImportedKey).signing);
    }
    const primary = this.#opts.algorithm;
    const verifying = [...ring.filter((k) => k.alg === primary), ...ring.filter((k) => k.alg !== primary)].map(
      (k) => (imported.get(k.kid) as ImportedKey).verifying,
    );
    this.#cache = { at: now, signing, verifying };
    return this.#cache;
  }

  /** True when every configured algorithm has a key younger than the rotation age. */
  #fresh(ring: StoredKey[], now: number): boolean {
    return this.#algorithms.every((alg) => this.#freshFor(alg, ring, now));
  }

  /** True when the newest key of `alg` is younger than the rotation age. */
  #freshFor(alg: SigningAlgorithm, ring: StoredKey[], now: number): boolean {
    const newest = ring.find((k) => k.alg === alg);
    return newest !== undefined && now - newest.createdAt < this.#opts.rotateAfterMs;
  }

  /** Keys of an algorithm no longer configured that are not yet marked retired. */
  #unmarked(ring: StoredKey[]): boolean {
    return ring.some((k) => k.retiredAt === undefined && !this.#algorithms.includes(k.alg));
  }

  /** Nothing to write: every algorithm has a fresh key, the ring is sealed with the current key, no retirement. */
  #settled(read: { ring: StoredKey[]; stale: boolean }, now: number): boolean {
    return !read.stale && this.#fresh(read.ring, now) && !this.#unmarked(read.ring);
  }

  async #ringFromStore(now: number): Promise<StoredKey[]> {
    const current = await this.#readRing();
    if (this.#settled(current, now)) return this.#prune(current.ring, now);
    // Due for a new key (or sealed with a previous store key): one process writes; the others wait and read it.
    const made = await this.#withLock(async () => {
      const again = await this.#readRing();
      if (this.#settled(again, now)) return again.ring;
      const due = this.#algorithms.filter((alg) => !this.#freshFor(alg, again.ring, now));
      const kept = again.ring.map((k) =>
        k.retiredAt === undefined && !this.#algorithms.includes(k.alg) ? { ...k, retiredAt: now } : k,
      );
      const ring = this.#prune(
        [...(await Promise.all(due.map((alg) => generateStoredKey(alg, this.#opts.now())))), ...kept],
        now,
      );
      await this.#save(ring);
      return ring;
    });
    return this.#prune(made, now);
  }

  /**
   * The ring as stored. Sealed with a previous store key: `stale`, written again sealed with the current one.
   * Stored in the clear while a store key is set (written before sealing was configured): treated as empty, so
   * new keys replace it; a ring in the clear is not trusted once sealing is on (anyone who can write the store
   * could otherwise plant a key). Sealed but unopenable (tampered, unknown store key): refused, never replaced,
   * so one misconfigured process cannot throw away every other process's keys.
   */
  async #readRing(): Promise<{ ring: StoredKey[]; stale: boolean }> {
    const raw = await this.#opts.store.get(RING_KEY);
    if (raw === null) return { ring: [], stale: false };
    const sealer = this.#opts.sealer;
    if (sealer.enabled && !isSealed(raw)) return { ring: [], stale: true };
    let opened: { plaintext: string; stale: boolean };
    try {
      opened = sealer.open(raw, RING_KEY);
    } catch (err) {
      throw new ArchwayError(
        "keys_unreadable",
        "the signing keys in the store cannot be opened: check secrets.storeKey and secrets.previousStoreKeys",
        500,
        { cause: err },
      );
    }
    const parsed = StoredRingSchema.safeParse(safeJson(opened.plaintext));
    if (!parsed.success) return { ring: [], stale: true };
    return { ring: parsed.data, stale: opened.stale };
  }

  /**
   * Drops keys whose overlap window is over: a key retires when the next key of its algorithm was created, or
   * when its algorithm was dropped from the configuration (`retiredAt`).
   */
  #prune(ring: StoredKey[], now: number): StoredKey[] {
    return ring.filter((key, i) => {
      const successor = ring.slice(0, i).findLast((k) => k.alg === key.alg);
      const retiredAt = key.retiredAt ?? successor?.createdAt;
      return retiredAt === undefined || now - retiredAt < this.#opts.overlapMs;
    });
  }

  async #save(ring: StoredKey[]): Promise<void> {
    await this.#opts.store.set(RING_KEY, this.#opts.sealer.seal(JSON.stringify(ring), RING_KEY));
  }

  async #withLock<T>(fn: () => Promise<T>): Promise<T> {
    for (let attempt = 0; attempt < 50; attempt++) {
      const lock = await this.#opts.store.acquireLock(LOCK_KEY, 10_000);
      if (lock) {
        try {
          return await fn();
        } finally {
          await lock.release();
        }
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new ArchwayError("keys_busy", "another process holds the signing-key lock for too long", 503);
  }

  /** The key files of `signing.dir`, newest name first; each key's algorithm comes from its type. */
  async #readFiles(): Promise<StoredKey[]> {
    const dir = this.#opts.dir;
    if (!dir) throw new ArchwayError("keys_missing", "signing.keys is 'files' but signing.dir is not set", 500);
    return Promise.all(readSigningKeyFiles(dir).map(storedKeyFromFile));
  }
}
