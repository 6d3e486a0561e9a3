import { type KeyObject, KeyObject as KeyObjects, type SignKeyObjectInput, sign, type webcrypto } from "node:crypto";
import type { SigningKey } from "./keyring.js";

const keyObjects = new WeakMap<object, KeyObject>();

/** The node:crypto key of a signing key (converted once per key). */
function keyObjectOf(key: SigningKey): KeyObject {
  const source = key.privateKey;
  if (source instanceof Uint8Array) throw new TypeError("symmetric signing keys are not used for Archway's tokens");
  let object = keyObjects.get(source);
  if (!object) {
    object = source instanceof KeyObjects ? source : KeyObjects.from(source as webcrypto.CryptoKey);
    keyObjects.set(source, object);
  }
  return object;
}

/**
 * Signs a compact JWS (RFC 7515) with node:crypto, synchronously; `encodedHeader` is {@link encodeJwsHeader}'s.
 * The same bytes jose would produce, without WebCrypto's promise machinery per signature. ES256 signatures are
 * the raw `r || s` form JWS requires (IEEE P1363), EdDSA is Ed25519, RS256 is PKCS#1 v1.5.
 */
export function signJwt(encodedHeader: string, payload: Record<string, unknown>, key: SigningKey): string {
  const input = `${encodedHeader}.${b64(payload)}`;
  const [digest, signer] = signArguments(key);
  return `${input}.${sign(digest, Buffer.from(input), signer).toString("base64url")}`;
}

/**
 * {@link signJwt} with the signature computed on libuv's thread pool: the same bytes, and the event loop serves
 * other requests meanwhile. The hop costs more than it saves for a lone request, so callers choose it under load.
 */
export function signJwtInPool(
  encodedHeader: string,
  payload: Record<string, unknown>,
  key: SigningKey,
): Promise<string> {
  const input = `${encodedHeader}.${b64(payload)}`;
  const [digest, signer] = signArguments(key);
  return new Promise((resolve, reject) => {
    sign(digest, Buffer.from(input), signer, (err, signature) =>
      err ? reject(err) : resolve(`${input}.${signature.toString("base64url")}`),
    );
  });
}

/**
 * node:crypto's digest and key arguments for a signing key: ES256 as JWS's raw `r || s`, EdDSA as Ed25519, RS256
 * as RSASSA-PKCS1-v1_5 with SHA-256 (node:crypto's default padding for an RSA key).
 */
function signArguments(key: SigningKey): [string | null, KeyObject | SignKeyObjectInput] {
  const object = keyObjectOf(key);
  switch (key.alg) {
    case "ES256":
      return ["sha256", { key: object, dsaEncoding: "ieee-p1363" }];
    case "RS256":
      return ["sha256", object];
    case "EdDSA":
      return [null, object];
  }
}

/** The protected header of an Archway JWS: always these three fields, in this order. */
export interface JwsHeader {
  alg: string;
  kid: string;
  typ: string;
}

/** The base64url JSON of a protected header: every token of one kind and key has the same, worth encoding once. */
export function encodeJwsHeader(header: JwsHeader): string {
  return b64({ alg: header.alg, kid: header.kid, typ: header.typ });
}

function b64(value: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}
