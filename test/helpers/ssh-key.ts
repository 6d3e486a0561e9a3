import { generateKeyPairSync } from "node:crypto";

/** OpenSSH's length-prefixed string. */
const sshString = (b: Buffer) => {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(b.length);
  return Buffer.concat([length, b]);
};

/**
 * A fresh ed25519 public key in OpenSSH's one-line format. The pair is made as DER bytes, not KeyObjects exported
 * as JWK: Node 20 can deadlock when the garbage collector finalises a key-generation job during a JWK export
 * (seen in test/env/gen-ldif.mjs). The raw key is the last 32 bytes of its SubjectPublicKeyInfo.
 */
export function sshKey(comment: string): string {
  const { publicKey } = generateKeyPairSync("ed25519", {
    publicKeyEncoding: { type: "spki", format: "der" },
    privateKeyEncoding: { type: "pkcs8", format: "der" },
  });
  const raw = publicKey.subarray(publicKey.length - 32);
  return `ssh-ed25519 ${Buffer.concat([sshString(Buffer.from("ssh-ed25519")), sshString(raw)]).toString("base64")} ${comment}`;
}
