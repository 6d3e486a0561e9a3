import { createHash, randomBytes, randomFillSync } from "node:crypto";
import { z } from "zod";
import { IdentitySchema } from "../../identity/index.js";

/** A random, URL-safe secret handed to a client (codes, refresh tokens, device codes). */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString("base64url");
}

const TOKEN_BYTES = 32;
const POOLED_TOKENS = 128;

/**
 * Random, URL-safe secrets of 32 bytes for a busy grant store (refresh tokens are minted on every refresh). Bytes
 * come from the CSPRNG 128 tokens at a time, as Node's own `randomUUID` does: one `randomBytes` call costs about as
 * much as a whole batch. Each byte is handed out once and zeroed as it is, so no issued secret stays in the pool.
 */
export class RandomTokens {
  readonly #pool = Buffer.alloc(TOKEN_BYTES * POOLED_TOKENS);
  #offset = this.#pool.length;

  /** The next secret, base64url (43 characters). */
  next(): string {
    if (this.#offset === this.#pool.length) {
      randomFillSync(this.#pool);
      this.#offset = 0;
    }
    const start = this.#offset;
    this.#offset += TOKEN_BYTES;
    const token = this.#pool.toString("base64url", start, this.#offset);
    this.#pool.fill(0, start, this.#offset);
    return token;
  }
}

/** Store keys hold a digest, never the secret itself: a store dump hands out no usable code or token. */
export function digestOf(secret: string): string {
  return createHash("sha256").update(secret).digest("base64url");
}

/** What a person granted a client: the common part of codes, refresh tokens and approved device codes. */
export const GrantSchema = z.object({
  clientId: z.string(),
  identity: IdentitySchema,
  /** Scopes granted (already limited to what the client may receive). */
  scope: z.array(z.string()),
  /** The cloud whose audience and groups the access tokens carry; absent for Archway's own audience. */
  cloudId: z.string().optional(),
  /**
   * Access tokens for Archway's `/v3` facade (`FACADE_AUDIENCE`) instead: `archway login` writes them into
   * clouds.yaml as `v3token` entries. Only for clients with `facade: true`.
   */
  facade: z.boolean().optional(),
  /** When the person authenticated, seconds since the epoch. */
  authTime: z.number().int(),
  nonce: z.string().optional(),
  /**
   * The session the grant hangs off: the sign-in it was made in, or the offline session of an `offline_access`
   * refresh token. The grant ends with it. Absent for Archway's own use (the broker's federated exchange).
   */
  sid: z.string().optional(),
  /** That session's absolute end, milliseconds since the epoch: no token of the grant outlives it. */
  sessionEnd: z.number().optional(),
  /**
   * How that session was authenticated (RFC 8176), copied when the grant is made: tokens carry it as `amr` (and
   * Archway's `acr`), and policy grants that wait on a second factor count only when it shows one. Absent on grants
   * made before it was recorded: no second factor.
   */
  amr: z.array(z.string()).optional(),
});
export type Grant = z.infer<typeof GrantSchema>;
