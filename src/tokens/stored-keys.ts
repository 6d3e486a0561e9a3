import { createPublicKey, type JsonWebKey } from "node:crypto";
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK } from "jose";
import { z } from "zod";
import { type SigningAlgorithm, SigningAlgorithmSchema, type SigningKeyFile } from "../config/index.js";
import type { SigningKey, VerificationKey } from "./keyring.js";

/** One key of the ring as the store keeps it (inside the sealed ring) or as read from a key file. */
export const StoredKeySchema = z.object({
  kid: z.string(),
  alg: SigningAlgorithmSchema,
  privateJwk: z.record(z.string(), z.unknown()),
  publicJwk: z.record(z.string(), z.unknown()),
  createdAt: z.number(),
  /** When its algorithm was dropped from the configuration: it verifies for the overlap window from then. */
  retiredAt: z.number().optional(),
});
export type StoredKey = z.infer<typeof StoredKeySchema>;
export const StoredRingSchema = z.array(StoredKeySchema);

/** A key imported once for signing and verifying (re-reading the ring does not import the same kid again). */
export interface ImportedKey {
  signing: SigningKey;
  verifying: VerificationKey;
}

/** A new key pair for `alg` (RSA: 2048 bits, jose's default), `kid` its RFC 7638 thumbprint. */
export async function generateStoredKey(alg: SigningAlgorithm, createdAt: number): Promise<StoredKey> {
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
    createdAt,
  };
}

/** A key file of `signing.dir` in the ring's shape. */
export async function storedKeyFromFile(file: SigningKeyFile): Promise<StoredKey> {
  const full = file.key.export({ format: "jwk" }) as JsonWebKey;
  const pub = createPublicKey(file.key).export({ format: "jwk" }) as JsonWebKey;
  const kid = await calculateJwkThumbprint(pub as JWK, "sha256");
  return {
    kid,
    alg: file.alg,
    privateJwk: { ...full, kid, alg: file.alg },
    publicJwk: { ...pub, kid, alg: file.alg, use: "sig" },
    createdAt: 0,
  };
}

/** Imports a stored key for signing and verifying, its algorithm pinned to the key's own. */
export async function importStoredKey(key: StoredKey): Promise<ImportedKey> {
  return {
    signing: { kid: key.kid, alg: key.alg, privateKey: await importJWK(key.privateJwk as JWK, key.alg) },
    verifying: {
      kid: key.kid,
      alg: key.alg,
      publicKey: await importJWK(key.publicJwk as JWK, key.alg),
      publicJwk: key.publicJwk as JWK,
    },
  };
}

/** JSON.parse, undefined for text that is not JSON. */
export function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
