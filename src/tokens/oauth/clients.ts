import { createHash, timingSafeEqual } from "node:crypto";
import type { IdpClient } from "../../config/index.js";
import { verifyPassword } from "../../identity/index.js";

const sha256 = (s: string) => createHash("sha256").update(s).digest();

/**
 * The relying parties of Archway's OpenID Provider, from the configuration. A confidential client's secret is
 * checked against its scrypt hash once; the digest of a secret that passed is remembered, so a busy service client
 * does not pay scrypt on every token request (a wrong secret always pays it).
 */
export class OAuthClients {
  readonly #byId: Map<string, IdpClient>;
  /** Digests of secrets that passed: plain secrets from the configuration, and hashed ones once verified. */
  readonly #verified = new Map<string, Buffer>();

  constructor(clients: readonly IdpClient[]) {
    this.#byId = new Map(clients.map((c) => [c.id, c]));
    for (const c of clients) if (c.secret !== undefined) this.#verified.set(c.id, sha256(c.secret));
  }

  /** The client with this id, if configured. */
  get(id: string): IdpClient | undefined {
    return this.#byId.get(id);
  }

  /**
   * The client when `secret` is right for it (or absent for a public client), else null. A public client that
   * sends a secret is refused: it has none to send.
   */
  async authenticate(id: string, secret: string | undefined): Promise<IdpClient | null> {
    const client = this.#byId.get(id);
    if (!client) return null;
    if (client.public) return secret === undefined ? client : null;
    if (secret === undefined) return null;
    // Equal-length digests compared in constant time: neither the secret nor its length leaks through timing.
    const digest = sha256(secret);
    const known = this.#verified.get(id);
    if (known && timingSafeEqual(known, digest)) return client;
    if (client.secret !== undefined) return null;
    if (!client.secretHash || !(await verifyPassword(secret, client.secretHash))) return null;
    this.#verified.set(id, digest);
    return client;
  }
}
