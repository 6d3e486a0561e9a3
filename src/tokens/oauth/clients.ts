import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { Audit } from "../../audit/index.js";
import { CLIENT_AUTH_LIMITS, type ClientAuthLimits, type IdpClient } from "../../config/index.js";
import { verifyPassword } from "../../identity/index.js";
import { MemoryStore, type Store } from "../../store/index.js";
import { ClientAuthLimiter, type ClientLimit } from "./client-auth-limit.js";
import { WorkGate } from "./work-gate.js";

/** What a client authentication came to. */
export type ClientAuthentication =
  | { kind: "ok"; client: IdpClient }
  /** Unknown client, wrong or missing secret, or a secret from a public client. */
  | { kind: "refused" }
  /** Too many failures: refused without looking at the secret. */
  | { kind: "limited"; by: ClientLimit; retryAfterSeconds: number }
  /** Every slot for secret hashing is taken: refused at once rather than queued without bound. */
  | { kind: "busy"; retryAfterSeconds: number };

/** What {@link OAuthClients} needs besides the clients; all optional for tests (an in-process store then). */
export interface OAuthClientsOptions {
  /** Where failure counters live, shared by every Archway process. */
  store?: Store;
  audit?: Audit;
  limits?: ClientAuthLimits;
}

/**
 * The relying parties of Archway's OpenID Provider, from the configuration, and their authentication. Failures are
 * limited per client and address, per address and per client ({@link ClientAuthLimiter}). A confidential client's
 * scrypt hash is checked once, on the bounded {@link WorkGate}; a secret that passed is remembered as an HMAC under
 * a key made at random for this process, so a busy service client does not pay scrypt on every token request and
 * the remembered value is no shortcut for testing guesses offline.
 */
export class OAuthClients {
  readonly #byId: Map<string, IdpClient>;
  /** HMACs of secrets that passed: plain secrets from the configuration, and hashed ones once verified. */
  readonly #verified = new Map<string, Buffer>();
  readonly #macKey = randomBytes(32);
  readonly #limiter: ClientAuthLimiter;
  readonly #gate: WorkGate;
  readonly #audit?: Audit;

  constructor(clients: readonly IdpClient[], opts: OAuthClientsOptions = {}) {
    this.#byId = new Map(clients.map((c) => [c.id, c]));
    for (const c of clients) if (c.secret !== undefined) this.#verified.set(c.id, this.#mac(c.secret));
    const limits = opts.limits ?? CLIENT_AUTH_LIMITS;
    this.#limiter = new ClientAuthLimiter(opts.store ?? new MemoryStore(), limits);
    this.#gate = new WorkGate(limits.hashConcurrency, limits.hashQueue);
    this.#audit = opts.audit;
  }

  /** The client with this id, if configured. */
  get(id: string): IdpClient | undefined {
    return this.#byId.get(id);
  }

  /**
   * Authenticates `id` with `secret` (absent for a public client) from `clientIp`. A public client that sends a
   * secret is refused: it has none to send. Failures and refusals are audited.
   */
  async authenticate(id: string, secret: string | undefined, clientIp: string): Promise<ClientAuthentication> {
    const client = this.#byId.get(id);
    // Public clients have no secret to guess; a confidential one that sent none has guessed nothing either.
    if (client?.public) return secret === undefined ? { kind: "ok", client } : { kind: "refused" };
    if (client && secret === undefined) return { kind: "refused" };
    const who = { clientId: client?.id, clientIp };
    const over = await this.#limiter.refused(who);
    if (over) return this.#limited(id, clientIp, over);
    if (client && secret !== undefined && this.#remembered(client.id, secret)) return { kind: "ok", client };

    const reserved = await this.#limiter.reserve(who);
    if (typeof reserved === "string") return this.#limited(id, clientIp, reserved);
    let passed: boolean | undefined;
    try {
      const hash = client?.secretHash;
      passed =
        hash !== undefined && secret !== undefined ? await this.#gate.run(() => verifyPassword(secret, hash)) : false;
    } catch (err) {
      // A check that could not run is no failure of the caller's.
      await reserved.settle(true);
      throw err;
    }
    // Given back when it passed, and when it never ran (busy): only a wrong secret stays counted.
    await reserved.settle(passed !== false);
    if (passed === undefined) {
      await this.#audit?.({ type: "oauth.client_auth_busy", actor: id, clientIp });
      return { kind: "busy", retryAfterSeconds: 1 };
    }
    if (!client || !passed) {
      await this.#audit?.({ type: "oauth.client_auth_failed", actor: id, clientIp, known: !!client });
      return { kind: "refused" };
    }
    this.#verified.set(client.id, this.#mac(secret as string));
    return { kind: "ok", client };
  }

  async #limited(id: string, clientIp: string, by: ClientLimit): Promise<ClientAuthentication> {
    await this.#audit?.({ type: "oauth.client_auth_limited", actor: id, clientIp, limit: by });
    return { kind: "limited", by, retryAfterSeconds: this.#limiter.retryAfterSeconds };
  }

  /** Whether `secret` is the one remembered for the client; equal-length MACs compared in constant time. */
  #remembered(clientId: string, secret: string): boolean {
    const known = this.#verified.get(clientId);
    return known !== undefined && timingSafeEqual(known, this.#mac(secret));
  }

  #mac(secret: string): Buffer {
    return createHmac("sha256", this.#macKey).update(secret).digest();
  }
}
