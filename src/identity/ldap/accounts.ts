import { identityId } from "../identity.js";
import type { AccountState } from "../source.js";
import { accountExpired, uacFlags } from "./ad.js";
import type { Directory } from "./directory.js";
import { immutableId, values } from "./entry.js";
import type { LdapSettings } from "./presets.js";

/**
 * Every account under the user base, enabled or not, as ids and usernames only: one paged search for all
 * people (with the lock attribute, OpenLDAP ppolicy's `pwdAccountLockedTime`), and, where the directory marks
 * disabled accounts with a filter (Active Directory's ACCOUNTDISABLE bit of `userAccountControl`, FreeIPA's
 * `nsAccountLock`, a configured `disabledFilter`), a second paged search for just those. An account past its AD
 * `accountExpires` counts as disabled (its end date came); AD's lockout bit does not (it is temporary, and
 * anyone can set it off with wrong passwords). No groups, keys or other
 * attributes are read, so a complete listing stays cheap enough to diff every minute.
 */
export async function* accountStates(
  dir: Directory,
  s: LdapSettings,
  sourceId: string,
  pageSize: number,
  now: () => Date = () => new Date(),
): AsyncIterable<AccountState> {
  const disabled = await disabledIds(dir, s, pageSize);
  const attributes = [
    s.idAttribute,
    s.usernameAttribute,
    ...[s.lockedAttribute, s.uacAttribute, s.expiresAttribute].filter((a): a is string => a !== undefined),
  ];
  for await (const page of dir.searchPaged(
    s.userBaseDn,
    { scope: "sub", filter: s.userFilter, attributes },
    pageSize,
  )) {
    for (const entry of page) {
      const immutable = immutableId(entry, s.idAttribute) ?? entry.dn;
      const locked = s.lockedAttribute !== undefined && values(entry, s.lockedAttribute).length > 0;
      const uacDisabled = s.uacAttribute !== undefined && uacFlags(values(entry, s.uacAttribute)[0]).disabled;
      const expired = s.expiresAttribute !== undefined && accountExpired(values(entry, s.expiresAttribute)[0], now());
      yield {
        id: identityId(sourceId, immutable),
        username: values(entry, s.usernameAttribute)[0] ?? "",
        disabled: locked || uacDisabled || expired || disabled.has(immutable),
      };
    }
  }
}

/**
 * The immutable ids of the people the directory's disabled filter matches (AD's ACCOUNTDISABLE bit, FreeIPA's
 * `nsAccountLock`, a configured `disabledFilter`): one paged search; empty without such a filter.
 */
export async function disabledIds(dir: Directory, s: LdapSettings, pageSize: number): Promise<Set<string>> {
  const disabled = new Set<string>();
  if (!s.disabledFilter) return disabled;
  for await (const page of dir.searchPaged(
    s.userBaseDn,
    { scope: "sub", filter: `(&${s.userFilter}${s.disabledFilter})`, attributes: [s.idAttribute] },
    pageSize,
  ))
    for (const entry of page) disabled.add(immutableId(entry, s.idAttribute) ?? entry.dn);
  return disabled;
}
