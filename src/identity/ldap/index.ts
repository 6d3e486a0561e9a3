/** The LDAP / Active Directory / FreeIPA identity source. */

export * as activeDirectory from "./ad.js";
export { equals as ldapEquals, rdnValue } from "./groups.js";
export { type LdapSettings, ldapSettings } from "./presets.js";
export { LdapSource, type LdapSourceOptions } from "./source.js";
