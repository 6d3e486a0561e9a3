import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  importJWK,
  importPKCS8,
  type CryptoKey as JoseKey,
  type JWK,
} from "jose";
import { z } from "zod";
import { ArchwayError } from "../errors.js";
import { getJson, type Store, setJson } from "../store/index.js";

/** Algorithms Archway signs with. Anything else in a token header is refused. */
export type SigningAlgorithm = "ES256" | "EdDSA";

const StoredKeySchema = z.object({
  kid: z.string(),
  alg: z.enum(["ES256", "EdDSA"]),
  privateJwk: z.record(z.string(), z.unknown()),
  publicJwk: z.record(z.string(), z.unknown()),
  createdAt: z.number(),
});
type StoredKey = z.infer<typeof StoredKeySchema>;
const StoredRingSchema = z.array(StoredKeySchema);

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
  algorithm: SigningAlgorithm;
  /** A new key is made once the newest is older than this. */
  rotateAfterMs: number;
  /** How long a replaced key still verifies; must exceed the longest token lifetime. */
  overlapMs: number;
  /** `files`: keys are PKCS#8 PEM or private JWK files in `dir` (rotated by the operator; newest name signs). */
  source?: "store" | "files";
  dir?: string;
  now?: () => number;
  /** How long a process trusts its cached copy of the ring before re-reading the store. */
  cacheMs?: number;
}

const RING_KEY = "tokens:keyring";
const LOCK_KEY = "tokens:keyring:lock";

/**
 * The signing keys, shared by every Archway process through the store: one signs, recent ones still verify
 * (rotation with an overlap window). `kid` is the RFC 7638 thumbprint, so a relying party that caches a JWKS
 * (mod_auth_openidc does for an hour) sees a new `kid` and fetches again.
 */
export class KeyRing {
  readonly #opts: Required<Omit<KeyRingOptions, "dir">> & { dir?: string };
  #cache: { at: number; signing: SigningKey; verifying: VerificationKey[] } | undefined;

  constructor(opts: KeyRingOptions) {
    this.#opts = { source: "store", now: Date.now, cacheMs: 5_000, ...opts };
  }

  /** The key to sign with now (creating or rotating one if due). */
  async signingKey(): Promise<SigningKey> {
    return (await this.#load()).signing;
  }

  /** Every key that may still verify a token, newest first. */
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

  /** Makes a new signing key now, keeping older ones for the overlap window. */
  async rotate(): Promise<void> {
    if (this.#opts.source === "files") {
      throw new ArchwayError("keys_external", "signing keys come from files: add a new key file to rotate", 400);
    }
    await this.#withLock(async () => {
      const ring = (await getJson(this.#opts.store, RING_KEY, StoredRingSchema)) ?? [];
      await this.#save([await this.#generate(), ...ring]);
    });
    this.#cache = undefined;
  }

  async #load() {
    const now = this.#opts.now();
    if (this.#cache && now - this.#cache.at < this.#opts.cacheMs) return this.#cache;
    const ring = this.#opts.source === "files" ? await this.#readFiles() : await this.#ringFromStore(now);
    const [newest] = ring;
    if (!newest) throw new ArchwayError("keys_missing", "no signing key is available", 500);
    const signing: SigningKey = {
      kid: newest.kid,
      alg: newest.alg,
      privateKey: await importJWK(newest.privateJwk as JWK, newest.alg),
    };
    const verifying = await Promise.all(
      ring.map(async (k) => ({
        kid: k.kid,
        alg: k.alg,
        publicKey: await importJWK(k.publicJwk as JWK, k.alg),
        publicJwk: k.publicJwk as JWK,
      })),
    );
    this.#cache = { at: now, signing, verifying };
    return this.#cache;
  }

  async #ringFromStore(now: number): Promise<StoredKey[]> {
    const current = (await getJson(this.#opts.store, RING_KEY, StoredRingSchema)) ?? [];
    const fresh = current[0] && now - current[0].createdAt < this.#opts.rotateAfterMs;
    if (fresh) return this.#prune(current, now);
    // Due for a new key: one process makes it; the others wait briefly and read what it wrote.
    const made = await this.#withLock(async () => {
      const again = (await getJson(this.#opts.store, RING_KEY, StoredRingSchema)) ?? [];
      if (again[0] && now - again[0].createdAt < this.#opts.rotateAfterMs) return again;
      const ring = this.#prune([await this.#generate(), ...again], now);
      await this.#save(ring);
      return ring;
    });
    return this.#prune(made, now);
  }

  /** Drops keys whose overlap window is over: a key retires when its successor was created. */
  #prune(ring: StoredKey[], now: number): StoredKey[] {
    return ring.filter((_key, i) => i === 0 || now - (ring[i - 1]?.createdAt ?? now) < this.#opts.overlapMs);
  }

  async #generate(): Promise<StoredKey> {
    const alg = this.#opts.algorithm;
    const { privateKey, publicKey } = await generateKeyPair(alg, {
      extractable: true,
      crv: alg === "EdDSA" ? "Ed25519" : undefined,
    });
    const publicJwk = await exportJWK(publicKey);
    const kid = await calculateJwkThumbprint(publicJwk, "sha256");
    return {
      kid,
      alg,
      privateJwk: { ...(await exportJWK(privateKey)), kid, alg },
      publicJwk: { ...publicJwk, kid, alg, use: "sig" },
      createdAt: this.#opts.now(),
    };
  }

  async #save(ring: StoredKey[]): Promise<void> {
    await setJson(this.#opts.store, RING_KEY, ring);
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

  async #readFiles(): Promise<StoredKey[]> {
    const dir = this.#opts.dir;
    if (!dir) throw new ArchwayError("keys_missing", "signing.keys is 'files' but signing.dir is not set", 500);
    const names = readdirSync(dir)
      .filter((n) => /\.(pem|jwk|json)$/.test(n))
      .sort()
      .reverse();
    const alg = this.#opts.algorithm;
    const ring: StoredKey[] = [];
    for (const name of names) {
      const text = readFileSync(join(dir, name), "utf8");
      const privateKey = name.endsWith(".pem")
        ? await importPKCS8(text, alg, { extractable: true })
        : await importJWK(JSON.parse(text) as JWK, alg);
      const full = await exportJWK(privateKey);
      const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...pub } = full;
      const kid = await calculateJwkThumbprint(pub, "sha256");
      ring.push({
        kid,
        alg,
        privateJwk: { ...full, kid, alg },
        publicJwk: { ...pub, kid, alg, use: "sig" },
        createdAt: 0,
      });
    }
    return ring;
  }
}
