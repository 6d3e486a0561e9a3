import type { LdapSourceConfig } from "../../config/index.js";

/** Everything the LDAP source needs to know about a directory's shape, after presets and overrides. */
export interface LdapSettings {
  userBaseDn: string;
  groupBaseDn: string;
  /** Object filter for people, e.g. `(objectClass=inetOrgPerson)`. */
  userFilter: string;
  usernameAttribute: string;
  /** Immutable id attribute (`entryUUID`, `objectGUID`, `ipaUniqueID`). */
  idAttribute: string;
  emailAttribute: string;
  displayNameAttribute: string;
  sshKeyAttribute: string;
  /** Groups from the user's `memberOf`, or by searching groups whose member attribute names the user. */
  groupMode: "memberOf" | "search";
  groupFilter: string;
  /** Attribute of a group listing its members, and whether it holds DNs or usernames (posixGroup memberUid). */
  memberAttribute: string;
  memberIsUid: boolean;
  groupNameAttribute: string;
  nested: boolean;
  /** Active Directory's LDAP_MATCHING_RULE_IN_CHAIN for nested groups in one query. */
  inChain: boolean;
  maxDepth: number;
  /** Extra filter that marks disabled accounts (they are never found). */
  disabledFilter?: string;
  /** Attribute whose presence means locked (OpenLDAP ppolicy). */
  lockedAttribute?: string;
  /** Attribute for changed-since enumeration. */
  changedAttribute: string;
  /** What a change mark is: a time (compared with `changedAttribute`), or AD's per-DC update counter (uSNChanged). */
  changeMark: "time" | "usn";
  /** AD logon names: `DOMAIN\user` and `user@suffix` (userPrincipalName) find the same person as `user`. */
  logonNames: boolean;
  /** AD's userPrincipalName, for `user@suffix` logins. */
  upnAttribute?: string;
  /** AD's userAccountControl: the ACCOUNTDISABLE bit refuses the account (besides `disabledFilter`). */
  uacAttribute?: string;
  /** AD's accountExpires (100-ns ticks since 1601; 0 and 2^63-1 mean never): an expired account is refused. */
  expiresAttribute?: string;
  /** `DOMAIN` of `DOMAIN\user`; read from the directory (CN=Partitions) when not configured. */
  netbiosDomain?: string;
  /** Keep only attribute values shaped like OpenSSH public keys (AD's altSecurityIdentities mixes in mappings). */
  sshKeysOnly: boolean;
  extraAttributes: string[];
}

const PRESETS: Record<
  LdapSourceConfig["preset"],
  Omit<LdapSettings, "userBaseDn" | "groupBaseDn" | "extraAttributes" | "netbiosDomain">
> = {
  openldap: {
    userFilter: "(objectClass=inetOrgPerson)",
    usernameAttribute: "uid",
    idAttribute: "entryUUID",
    emailAttribute: "mail",
    displayNameAttribute: "cn",
    sshKeyAttribute: "sshPublicKey",
    groupMode: "memberOf",
    groupFilter: "(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames))",
    memberAttribute: "member",
    memberIsUid: false,
    groupNameAttribute: "cn",
    nested: true,
    inChain: false,
    maxDepth: 10,
    lockedAttribute: "pwdAccountLockedTime",
    changedAttribute: "modifyTimestamp",
    changeMark: "time",
    logonNames: false,
    sshKeysOnly: false,
  },
  "active-directory": {
    userFilter: "(&(objectCategory=person)(objectClass=user))",
    usernameAttribute: "sAMAccountName",
    idAttribute: "objectGUID",
    emailAttribute: "mail",
    displayNameAttribute: "displayName",
    // AD's schema has no sshPublicKey; altSecurityIdentities is multi-valued text that AD tooling already shows.
    sshKeyAttribute: "altSecurityIdentities",
    sshKeysOnly: true,
    groupMode: "search",
    groupFilter: "(objectClass=group)",
    memberAttribute: "member",
    memberIsUid: false,
    groupNameAttribute: "cn",
    nested: true,
    inChain: true,
    maxDepth: 10,
    // ACCOUNTDISABLE bit of userAccountControl.
    disabledFilter: "(userAccountControl:1.2.840.113556.1.4.803:=2)",
    uacAttribute: "userAccountControl",
    expiresAttribute: "accountExpires",
    upnAttribute: "userPrincipalName",
    logonNames: true,
    // whenChanged is not replicated (each DC keeps its own) and has a one-second grain; uSNChanged is exact.
    changedAttribute: "uSNChanged",
    changeMark: "usn",
  },
  freeipa: {
    userFilter: "(objectClass=posixAccount)",
    usernameAttribute: "uid",
    idAttribute: "ipaUniqueID",
    emailAttribute: "mail",
    displayNameAttribute: "displayName",
    sshKeyAttribute: "ipaSshPubKey",
    groupMode: "memberOf",
    groupFilter: "(objectClass=groupOfNames)",
    memberAttribute: "member",
    memberIsUid: false,
    groupNameAttribute: "cn",
    // FreeIPA's memberOf already includes indirect memberships.
    nested: false,
    inChain: false,
    maxDepth: 10,
    disabledFilter: "(nsAccountLock=TRUE)",
    changedAttribute: "modifyTimestamp",
    changeMark: "time",
    logonNames: false,
    sshKeysOnly: false,
  },
};

/** Applies the preset, then every explicitly configured field. */
export function ldapSettings(c: LdapSourceConfig): LdapSettings {
  const p = PRESETS[c.preset];
  const g = c.groups;
  const groupFilter = g.filter ?? (g.memberAttribute === "memberUid" ? "(objectClass=posixGroup)" : p.groupFilter);
  const memberAttribute = g.memberAttribute ?? p.memberAttribute;
  return {
    ...p,
    userBaseDn: c.userBaseDn ?? c.baseDn,
    groupBaseDn: c.groupBaseDn ?? c.baseDn,
    userFilter: c.userFilter ?? p.userFilter,
    usernameAttribute: c.usernameAttribute ?? p.usernameAttribute,
    idAttribute: c.idAttribute ?? p.idAttribute,
    emailAttribute: c.emailAttribute ?? p.emailAttribute,
    displayNameAttribute: c.displayNameAttribute ?? p.displayNameAttribute,
    sshKeyAttribute: c.sshKeyAttribute ?? p.sshKeyAttribute,
    groupMode: g.mode ?? (memberAttribute === "memberUid" ? "search" : p.groupMode),
    groupFilter,
    memberAttribute,
    memberIsUid: memberAttribute === "memberUid",
    groupNameAttribute: g.nameAttribute ?? p.groupNameAttribute,
    nested: g.nested && p.nested,
    inChain: g.inChainMatchingRule ?? p.inChain,
    maxDepth: g.maxDepth,
    disabledFilter: c.disabledFilter ?? p.disabledFilter,
    netbiosDomain: c.netbiosDomain,
    extraAttributes: c.extraAttributes,
  };
}
