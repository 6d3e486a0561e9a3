import { z } from "zod";
import { IdentitySchema } from "../../identity.js";

/** WebAuthn transports a browser may report (`AuthenticatorTransport`), kept as hints for later sign-ins. */
export const TRANSPORTS = ["ble", "cable", "hybrid", "internal", "nfc", "smart-card", "usb"] as const;

const Base64Url = z.string().regex(/^[A-Za-z0-9_-]+$/, "base64url");

/**
 * One registered passkey or security key, as the store keeps it (inside the person's sealed list). Only public
 * material: the credential's public key cannot sign, but the list is sealed all the same (who holds which
 * authenticators, and when they used them, is personal data).
 */
export const PasskeyRecordSchema = z
  .object({
    /** The credential id (base64url), unique per authenticator and site. */
    id: Base64Url.max(1400),
    /** COSE public key (base64url). */
    publicKey: Base64Url.max(4096),
    /** The authenticator's signature counter at its last use (0 for authenticators that keep none). */
    counter: z.number().int().min(0).max(0xffffffff),
    transports: z.array(z.enum(TRANSPORTS)).default([]),
    /** The person's name for it ("YubiKey 5", "work laptop"). */
    name: z.string().min(1).max(64),
    /** Authenticator model (AAGUID), all zeros when the authenticator does not say. */
    aaguid: z.string().max(64).default(""),
    /** `multiDevice` credentials are synced (backed up) by a platform; `singleDevice` ones never leave it. */
    deviceType: z.enum(["singleDevice", "multiDevice"]),
    backedUp: z.boolean(),
    /** ISO times. */
    createdAt: z.string(),
    lastUsedAt: z.string().optional(),
  })
  .strict();
/** One registered credential. */
export type PasskeyRecord = z.infer<typeof PasskeyRecordSchema>;

/**
 * What the credential-id index says about a credential: whose it is, and the person as last seen, so a
 * usernameless sign-in can start a session for a source that cannot look people up (an upstream SSO).
 */
export const PasskeyOwnerSchema = z.object({ personId: z.string().min(1), identity: IdentitySchema }).strict();
export type PasskeyOwner = z.infer<typeof PasskeyOwnerSchema>;

/**
 * The signature-counter rule (WebAuthn §6.1.1): an authenticator that keeps a counter must show a larger one each
 * time; the same or a smaller value means the credential may have been cloned, and the assertion is refused.
 * Authenticators without a counter report 0 every time (both 0: accepted).
 */
export function counterAccepted(stored: number, received: number): boolean {
  if (stored === 0 && received === 0) return true;
  return received > stored;
}

/** How a passkey was used in one sign-in, for the session's `amr` (RFC 8176). */
export interface PasskeyUse {
  deviceType: PasskeyRecord["deviceType"];
  /** The authenticator checked a PIN or biometric (UV flag). */
  userVerified: boolean;
}

/**
 * RFC 8176 `amr` values for a passkey use:
 * - `hwk` for a device-bound key (`singleDevice`: the key never leaves the authenticator), `swk` for a synced
 *   passkey (`multiDevice`: a copy lives in a platform's cloud keychain);
 * - `user`: the user-presence test (WebAuthn requires it on every use);
 * - `mfa` when the authenticator verified the person (PIN or biometric): possession plus knowledge or inherence
 *   is two factors, so such a passkey alone is multi-factor. RFC 8176 has no value for "PIN or biometric, we
 *   cannot tell which", so neither `pin` nor `fpt` is claimed.
 */
export function passkeyAmr(use: PasskeyUse): string[] {
  return [use.deviceType === "singleDevice" ? "hwk" : "swk", "user", ...(use.userVerified ? ["mfa"] : [])];
}
