import type { Entry } from "ldapts";
import type { LdapSourceConfig } from "../../config/index.js";
import { type Identity, identityId } from "../identity.js";
import type {
  AccountListSource,
  AccountState,
  AccountWatch,
  AccountWatchHandler,
  AccountWatchSource,
  EnumerableSource,
  LookupSource,
  PasswordSource,
} from "../source.js";
import { accountStates } from "./accounts.js";
import { accountExpired, type BindRefusal, isSshKeyLine, parseLogonName, uacFlags } from "./ad.js";
import { type DomainNames, readDomainNames, readUsnMark, usnChangedFilter } from "./ad-directory.js";
import { Directory } from "./directory.js";
import { immutableId, values } from "./entry.js";
import { equals, type GroupRef, GroupResolver } from "./groups.js";
import { type LdapSettings, ldapSettings } from "./presets.js";
import { netTransport, SYNC_OID } from "./syncrepl/index.js";
import { LdapAccountWatch } from "./watch.js";

/**
 * An LDAP or Active Directory source: password check by binding as the person, lookup and paged enumeration
 * through a reused service connection, groups (nested where configured), SSH keys and selected attributes.
 * Every value that comes from a user is escaped per RFC 4515 before it reaches a filter.
 */
export class LdapSource
  implements PasswordSource, LookupSource, EnumerableSource, AccountListSource, AccountWatchSource
{
  readonly type = "ldap" as const;
  readonly id: string;
  readonly #config: LdapSourceConfig;
  readonly #s: LdapSettings;
  readonly #dir: Directory;
  readonly #groups: GroupResolver;
  readonly #pageSize: number;
  readonly #onRefusal?: LdapSourceOptions["onRefusal"];
  readonly #now: () => Date;
  #domain: Promise<DomainNames> | undefined;

  constructor(config: LdapSourceConfig, opts: LdapSourceOptions = {}) {
    this.id = config.id;
    this.#config = config;
    this.#s = ldapSettings(config);
    this.#pageSize = config.pageSize;
    this.#dir = new Directory({
      sourceId: config.id,
      urls: config.urls,
      startTls: config.startTls,
      caFile: config.caFile,
      insecureSkipVerify: config.insecureSkipVerify,
      bindDn: config.bindDn,
      bindPassword: config.bindPassword,
      timeoutMs: config.timeoutMs,
      poolSize: config.poolSize,
    });
    this.#groups = new GroupResolver(this.#dir, this.#s);
    this.#onRefusal = opts.onRefusal;
    this.#now = opts.now ?? (() => new Date());
  }

  async login(username: string, password: string): Promise<Identity | null> {
    // An empty password would be an anonymous ("unauthenticated") bind that many servers accept: refuse first.
    if (password === "" || username === "") return null;
    const entry = await this.#findUser(username);
    // Unknown, disabled or expired: bind a DN that does not exist, so the answer costs the same round trip.
    const outcome = await this.#dir.checkPassword(
      entry?.dn ?? `cn=archway-no-such-user,${this.#s.userBaseDn}`,
      password,
    );
    if (entry && outcome.ok) return this.#toIdentity(entry);
    // Every refusal reads the same to the person (wrong password, disabled, expired, locked, must change):
    // only the operator's log learns which.
    this.#onRefusal?.({
      username,
      reason: entry ? (outcome.ok ? "invalid_credentials" : outcome.reason) : "no_such_user",
      code: outcome.ok ? undefined : outcome.code,
    });
    return null;
  }

  async lookup(username: string): Promise<Identity | null> {
    if (username === "") return null;
    const entry = await this.#findUser(username);
    return entry ? this.#toIdentity(entry) : null;
  }

  async *list(opts: { pageSize?: number; changedSince?: string } = {}): AsyncIterable<Identity> {
    const s = this.#s;
    const changed = await this.#changedFilter(opts.changedSince);
    const filter = `(&${s.userFilter}${this.#notDisabled()}${changed})`;
    const parents = new Map<string, Promise<GroupRef[]>>();
    for await (const page of this.#dir.searchPaged(
      s.userBaseDn,
      { scope: "sub", filter, attributes: this.#attributes() },
      opts.pageSize ?? this.#pageSize,
    )) {
      for (const entry of page) {
        if (!this.#usable(entry)) continue;
        yield await this.#toIdentity(entry, parents);
      }
    }
  }

  /** Every account's id and username, enabled or not, with the disabled ones marked (see {@link accountStates}). */
  accounts(opts: { pageSize?: number } = {}): AsyncIterable<AccountState> {
    return accountStates(this.#dir, this.#s, this.id, opts.pageSize ?? this.#pageSize, this.#now);
  }

  /**
   * Watches the people base with RFC 4533 content synchronisation (see {@link LdapAccountWatch}) when `syncrepl`
   * is `on`, or `auto` and the root DSE lists the Sync Request control among its supportedControl values.
   */
  async watchAccounts(handler: AccountWatchHandler): Promise<AccountWatch | { unavailable: string }> {
    const c = this.#config;
    if (c.syncrepl === "off") return { unavailable: "syncrepl: off" };
    if (c.syncrepl === "auto") {
      const [root] = await this.#dir.search("", {
        scope: "base",
        filter: "(objectClass=*)",
        attributes: ["supportedControl"],
      });
      if (!root || !values(root, "supportedControl").includes(SYNC_OID.request))
        return { unavailable: `the directory does not list the Sync Request control (${SYNC_OID.request})` };
    }
    const watch = new LdapAccountWatch({
      sourceId: this.id,
      settings: this.#s,
      dir: this.#dir,
      pageSize: this.#pageSize,
      handler,
      consumer: {
        urls: c.urls,
        startTls: c.startTls,
        bindDn: c.bindDn,
        bindPassword: c.bindPassword,
        timeoutMs: c.timeoutMs,
        transport: netTransport(this.#dir.tls),
      },
    });
    watch.start();
    return watch;
  }

  async mark(): Promise<string> {
    if (this.#s.changeMark === "usn") return readUsnMark(this.#dir);
    // A second of margin for clock skew between Archway and the directory; re-reading an entry is harmless.
    return new Date(Date.now() - 1_000).toISOString();
  }

  async ping(): Promise<void> {
    await this.#dir.ping();
  }

  async close(): Promise<void> {
    await this.#dir.close();
  }

  /** The one enabled entry for `username`, or null (none, several, disabled, expired or locked). */
  async #findUser(username: string): Promise<Entry | null> {
    const s = this.#s;
    const who = await this.#logonFilter(username);
    if (!who) return null;
    const filter = `(&${s.userFilter}${who}${this.#notDisabled()})`;
    const entries = await this.#dir.search(s.userBaseDn, {
      scope: "sub",
      filter,
      attributes: this.#attributes(),
      sizeLimit: 2,
    });
    if (entries.length !== 1) return null;
    const entry = entries[0]!;
    return this.#usable(entry) ? entry : null;
  }

  /**
   * The filter that finds who `username` names. With AD logon names, `DOMAIN\user` is the sAMAccountName in
   * this domain (another domain's name finds nobody) and `user@suffix` a userPrincipalName, or, with the
   * domain's own DNS suffix, the implicit UPN `sAMAccountName@domain` as AD's own bind accepts it.
   */
  async #logonFilter(username: string): Promise<string | null> {
    const s = this.#s;
    if (!s.logonNames) return equals(s.usernameAttribute, username);
    const domain = await this.#domainNames();
    const name = parseLogonName(username, domain);
    if (!name) return null;
    if (name.kind === "sam") return equals(s.usernameAttribute, name.sam);
    const upn = equals(s.upnAttribute ?? "userPrincipalName", name.upn);
    return domain.dns && name.suffix.toLowerCase() === domain.dns.toLowerCase()
      ? `(|${upn}${equals(s.usernameAttribute, name.local)})`
      : upn;
  }

  #domainNames(): Promise<DomainNames> {
    this.#domain ??= readDomainNames(this.#dir, this.#s.netbiosDomain);
    const pending = this.#domain;
    pending.catch(() => {
      if (this.#domain === pending) this.#domain = undefined;
    });
    return pending;
  }

  async #changedFilter(mark: string | undefined): Promise<string> {
    if (!mark) return "";
    const s = this.#s;
    if (s.changeMark === "usn") return usnChangedFilter(this.#dir, s, mark);
    return `(${s.changedAttribute}>=${toGeneralizedTime(mark)})`;
  }

  /** Not locked (ppolicy), not disabled (AD's ACCOUNTDISABLE bit) and not past its accountExpires. */
  #usable(entry: Entry): boolean {
    const s = this.#s;
    if (this.#locked(entry)) return false;
    if (s.uacAttribute && uacFlags(values(entry, s.uacAttribute)[0]).disabled) return false;
    return !(s.expiresAttribute && accountExpired(values(entry, s.expiresAttribute)[0], this.#now()));
  }

  #notDisabled(): string {
    return this.#s.disabledFilter ? `(!${this.#s.disabledFilter})` : "";
  }

  #locked(entry: Entry): boolean {
    const attr = this.#s.lockedAttribute;
    return attr !== undefined && values(entry, attr).length > 0;
  }

  #attributes(): string[] {
    const s = this.#s;
    return [
      s.usernameAttribute,
      s.idAttribute,
      s.emailAttribute,
      s.displayNameAttribute,
      s.sshKeyAttribute,
      "memberOf",
      ...(s.lockedAttribute ? [s.lockedAttribute] : []),
      ...(s.uacAttribute ? [s.uacAttribute] : []),
      ...(s.expiresAttribute ? [s.expiresAttribute] : []),
      ...s.extraAttributes,
    ];
  }

  async #toIdentity(entry: Entry, parents?: Map<string, Promise<GroupRef[]>>): Promise<Identity> {
    const s = this.#s;
    const username = values(entry, s.usernameAttribute)[0] ?? "";
    const immutable = immutableId(entry, s.idAttribute) ?? entry.dn;
    const groups = await this.#groups.resolve({ dn: entry.dn, username, memberOf: values(entry, "memberOf") }, parents);
    const attributes: Record<string, string[]> = {};
    for (const a of s.extraAttributes) attributes[a] = values(entry, a);
    return {
      id: identityId(this.id, immutable),
      source: this.id,
      username,
      email: values(entry, s.emailAttribute)[0],
      displayName: values(entry, s.displayNameAttribute)[0],
      groups: [...new Set(groups.map((g) => g.name))],
      groupDns: groups.map((g) => g.dn),
      sshKeys: values(entry, s.sshKeyAttribute)
        .map((k) => k.trim())
        .filter((k) => k !== "" && (!s.sshKeysOnly || isSshKeyLine(k))),
      attributes,
    };
  }
}

/** Options of an {@link LdapSource} beyond its configuration. */
export interface LdapSourceOptions {
  /**
   * Hears why a login was refused (AD's bind data codes: disabled, expired, locked, must change the password),
   * for the operator's log. The person is never told which: every refusal is the same `null`.
   */
  onRefusal?: (refusal: { username: string; reason: BindRefusal | "no_such_user"; code?: string }) => void;
  /** The clock that `accountExpires` is compared with. */
  now?: () => Date;
}

/** ISO time or an LDAP generalized time -> generalized time (`YYYYMMDDHHmmssZ`). */
function toGeneralizedTime(mark: string): string {
  if (/^\d{14}(\.\d+)?Z$/.test(mark)) return mark;
  const d = new Date(mark);
  if (Number.isNaN(d.getTime())) return "19700101000000Z";
  return `${d.toISOString().replace(/[-:T]/g, "").slice(0, 14)}Z`;
}
