import { type Identity, identityId } from "../identity.js";
import { hashPassword, verifyPassword } from "../scrypt.js";
import type { AccountListSource, AccountState, EnumerableSource, LookupSource, PasswordSource } from "../source.js";
import type { StaticSourceConfig, StaticUser } from "./schema.js";

/**
 * Users listed in the config file with scrypt hashes: the embedded default's demo users, and a break-glass
 * account in production. The username is the immutable id (there is nothing else).
 */
export class StaticSource implements PasswordSource, LookupSource, EnumerableSource, AccountListSource {
  readonly type = "static" as const;
  readonly id: string;
  #users: Map<string, StaticUser>;
  /** When the configuration file these users came from was last changed (ms): a newer reload wins. */
  generation: number | undefined;
  // Verified against when the username is unknown, so both answers cost one scrypt.
  readonly #decoy: Promise<string>;

  constructor(config: StaticSourceConfig, opts: { generation?: number } = {}) {
    this.id = config.id;
    this.#users = new Map(config.users.map((u) => [u.username, u]));
    this.generation = opts.generation;
    this.#decoy = hashPassword("decoy-password-never-matches");
  }

  /**
   * Takes the users of a reloaded configuration (`SIGHUP`): logins, lookups and listings see them at once; the
   * next look for departures finds who was removed or disabled. Resolves the usernames removed and newly disabled.
   */
  replace(config: StaticSourceConfig, opts: { generation?: number } = {}): { removed: string[]; disabled: string[] } {
    const next = new Map(config.users.map((u) => [u.username, u]));
    const removed = [...this.#users.keys()].filter((name) => !next.has(name));
    const disabled = [...next.values()]
      .filter((u) => u.disabled && this.#users.has(u.username) && !this.#users.get(u.username)?.disabled)
      .map((u) => u.username);
    this.#users = next;
    this.generation = opts.generation;
    return { removed, disabled };
  }

  async login(username: string, password: string): Promise<Identity | null> {
    if (password === "") return null;
    const user = this.#users.get(username);
    const ok = await verifyPassword(password, user?.passwordHash ?? (await this.#decoy));
    if (!user || !ok || user.disabled) return null;
    return this.#toIdentity(user);
  }

  async lookup(username: string): Promise<Identity | null> {
    const user = this.#users.get(username);
    return user && !user.disabled ? this.#toIdentity(user) : null;
  }

  async *list(): AsyncIterable<Identity> {
    for (const user of this.#users.values()) if (!user.disabled) yield this.#toIdentity(user);
  }

  /**
   * Every configured user with its `disabled` flag. The list changes when the configuration is loaded again
   * (`SIGHUP` or a restart): the next look finds who was removed or disabled, against the listing kept in the store.
   */
  async *accounts(): AsyncIterable<AccountState> {
    for (const user of this.#users.values())
      yield { id: identityId(this.id, user.username), username: user.username, disabled: user.disabled === true };
  }

  async mark(): Promise<string> {
    return new Date().toISOString();
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {}

  #toIdentity(user: StaticUser): Identity {
    const attributes: Record<string, string[]> = {};
    for (const [k, v] of Object.entries(user.attributes)) attributes[k] = Array.isArray(v) ? v : [v];
    return {
      id: identityId(this.id, user.username),
      source: this.id,
      username: user.username,
      email: user.email,
      displayName: user.displayName,
      groups: [...user.groups],
      groupDns: [],
      sshKeys: [...user.sshKeys],
      attributes,
    };
  }
}
