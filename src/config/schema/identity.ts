/**
 * Identity sources' configuration. Each source type's schema lives beside its code (src/identity/<type>/schema.ts,
 * zod only) and the union of them all comes from identity's schema registry; this file only re-exports them under
 * the names the rest of the program has always imported from the config layer.
 */
export { type LdapSourceConfig, LdapSourceSchema } from "../../identity/ldap/schema.js";
export { type OidcSourceConfig, OidcSourceSchema } from "../../identity/oidc/schema.js";
export { type IdentitySourceConfig, IdentitySourceSchema } from "../../identity/schemas.js";
export {
  type StaticSourceConfig,
  StaticSourceSchema,
  type StaticUser,
  StaticUserSchema,
} from "../../identity/static/schema.js";
