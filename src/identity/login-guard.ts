import type { Audit } from "../audit/index.js";
import { ArchwayError, isArchwayError } from "../errors.js";
import type { Store } from "../store/index.js";
import type { Identity } from "./identity.js";
import { OffboardedPeople } from "./offboarded.js";
import type { PasswordSource } from "./source.js";

/** Failed-attempt limits: past `max` failures within `windowMs`, the key is locked for `lockoutMs`. */
export interface LoginLimits {
  perUsername: { max: number; windowMs: number };
  perClient: { max: number; windowMs: number };
  lockoutMs: number;
}

export const DEFAULT_LOGIN_LIMITS: LoginLimits = {
  perUsername: { max: 5, windowMs: 15 * 60_000 },
  perClient: { max: 50, windowMs: 15 * 60_000 },
  lockoutMs: 15 * 60_000,
};

/**
 * Every password login goes through here: temporary lockout per username and per client address (kept in the
 * store, so every Archway process agrees), one answer for an unknown user and a wrong password, and an audit
 * event for each attempt (never with the password).
 */
export class LoginGuard {
  readonly #store: Store;
  readonly #audit: Audit;
  readonly #limits: LoginLimits;
  readonly #offboarded: OffboardedPeople;

  constructor(opts: { store: Store; audit: Audit; limits?: LoginLimits }) {
    this.#store = opts.store;
    this.#audit = opts.audit;
    this.#limits = opts.limits ?? DEFAULT_LOGIN_LIMITS;
    this.#offboarded = new OffboardedPeople({ store: opts.store });
  }

  /**
   * Resolves the identity, or throws `ArchwayError`: `login_failed` (401) for any wrong pair, `login_locked` (429)
   * while locked out, `directory_unavailable` (503) when the source cannot tell.
   */
  async login(source: PasswordSource, username: string, password: string, clientIp: string): Promise<Identity> {
    const who = username.trim().toLowerCase();
    const userKey = `login:${source.id}:user:${who}`;
    const clientKey = `login:client:${clientIp}`;
    const base = { actor: username, source: source.id, clientIp };
    if ((await this.#store.get(`${userKey}:lock`)) !== null || (await this.#store.get(`${clientKey}:lock`)) !== null) {
      await this.#audit({ type: "login.locked", ...base });
      throw new ArchwayError(
        "login_locked",
        `too many failed logins; try again in ${Math.ceil(this.#limits.lockoutMs / 60_000)} minutes`,
        429,
      );
    }
    let identity: Identity | null;
    try {
      identity = await source.login(username, password);
    } catch (err) {
      const code = isArchwayError(err) ? err.code : "internal_error";
      await this.#audit({ type: "login.error", ...base, reason: code });
      throw err;
    }
    // Offboarded (kill switch, or disabled before the directory says so): the same answer as a wrong password.
    if (identity && (await this.#offboarded.get(identity.id))) {
      await this.#audit({ type: "login.failure", ...base, identity: identity.id, reason: "offboarded" });
      throw new ArchwayError("login_failed", "invalid username or password", 401);
    }
    if (!identity) {
      await this.#fail(userKey, this.#limits.perUsername);
      await this.#fail(clientKey, this.#limits.perClient);
      await this.#audit({
        type: "login.failure",
        ...base,
        reason: password === "" ? "empty_password" : "invalid_credentials",
      });
      throw new ArchwayError("login_failed", "invalid username or password", 401);
    }
    await this.#store.delete(userKey);
    await this.#audit({ type: "login.success", ...base, identity: identity.id });
    return identity;
  }

  async #fail(key: string, limit: { max: number; windowMs: number }): Promise<void> {
    const count = await this.#store.increment(key, { ttlMs: limit.windowMs });
    if (count >= limit.max) {
      await this.#store.set(`${key}:lock`, "1", { ttlMs: this.#limits.lockoutMs });
      await this.#store.delete(key);
    }
  }
}
