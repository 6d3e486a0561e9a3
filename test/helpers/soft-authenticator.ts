import { createHash, createSign, generateKeyPairSync, type KeyObject, randomBytes } from "node:crypto";
import type { AuthenticationResponseJSON, PublicKeyCredentialRequestOptionsJSON } from "@simplewebauthn/server";
import type { PasskeyRecord } from "../../src/identity/index.js";

/**
 * A software WebAuthn authenticator for tests that run without a browser: one P-256 (ES256) credential, a signature
 * counter, and assertions signed as an authenticator signs them (authenticator data, then the client data's digest).
 * Registration is skipped: {@link SoftAuthenticator.record} is the credential as Archway stores it after one.
 */
export class SoftAuthenticator {
  readonly credentialId = randomBytes(16).toString("base64url");
  readonly #privateKey: KeyObject;
  readonly #publicJwk: { x: string; y: string };
  #counter = 0;

  constructor() {
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    this.#privateKey = privateKey;
    const jwk = publicKey.export({ format: "jwk" });
    this.#publicJwk = { x: jwk.x ?? "", y: jwk.y ?? "" };
  }

  /** The stored passkey record of this credential (a device-bound key, as a security key registers). */
  record(name: string): PasskeyRecord {
    return {
      id: this.credentialId,
      publicKey: coseEs256(this.#publicJwk).toString("base64url"),
      counter: 0,
      transports: ["usb"],
      name,
      aaguid: "00000000-0000-0000-0000-000000000000",
      deviceType: "singleDevice",
      backedUp: false,
      createdAt: new Date().toISOString(),
    };
  }

  /** Answers `options` for `origin`, user present and verified (a PIN or biometric checked). */
  assert(options: PublicKeyCredentialRequestOptionsJSON, origin: string): AuthenticationResponseJSON {
    this.#counter += 1;
    const rpIdHash = createHash("sha256")
      .update(options.rpId ?? new URL(origin).hostname)
      .digest();
    const counter = Buffer.alloc(4);
    counter.writeUInt32BE(this.#counter);
    // Flags: UP (0x01) and UV (0x04).
    const authenticatorData = Buffer.concat([rpIdHash, Buffer.from([0x05]), counter]);
    const clientDataJSON = Buffer.from(JSON.stringify({ type: "webauthn.get", challenge: options.challenge, origin }));
    const signer = createSign("sha256");
    signer.update(Buffer.concat([authenticatorData, createHash("sha256").update(clientDataJSON).digest()]));
    return {
      id: this.credentialId,
      rawId: this.credentialId,
      type: "public-key",
      clientExtensionResults: {},
      response: {
        authenticatorData: authenticatorData.toString("base64url"),
        clientDataJSON: clientDataJSON.toString("base64url"),
        signature: signer.sign(this.#privateKey).toString("base64url"),
      },
    };
  }
}

/** The COSE_Key of an ES256 public key, CBOR-encoded: {1: 2 (EC2), 3: -7 (ES256), -1: 1 (P-256), -2: x, -3: y}. */
function coseEs256(jwk: { x: string; y: string }): Buffer {
  const bytes = (b64: string) => {
    const raw = Buffer.from(b64, "base64url");
    return Buffer.concat([Buffer.from([0x58, raw.length]), raw]);
  };
  // 0xa5: map of 5; 0x01 0x02: 1 -> 2; 0x03 0x26: 3 -> -7; 0x20 0x01: -1 -> 1; 0x21: -2; 0x22: -3.
  return Buffer.concat([
    Buffer.from([0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21]),
    bytes(jwk.x),
    Buffer.from([0x22]),
    bytes(jwk.y),
  ]);
}
