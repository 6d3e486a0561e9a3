/** The LDAP / Active Directory / FreeIPA identity source. */

export { equals as ldapEquals, rdnValue } from "./groups.js";
export { type LdapSettings, ldapSettings } from "./presets.js";
export { LdapSource } from "./source.js";
