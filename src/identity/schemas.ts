import { z } from "zod";
import { LdapSourceSchema } from "./ldap/schema.js";
import { OidcSourceSchema } from "./oidc/schema.js";
import { StaticSourceSchema } from "./static/schema.js";

/**
 * The configuration schema of every identity source type, one line each (the first half of the registry; the
 * second, {@link SOURCE_TYPES} in registry.ts, maps each type to its code and does not compile until a type listed
 * here has its line there). Zod only: the config layer imports this file, never the sources' code, so reading a
 * config pulls no LDAP, OIDC or SAML library and config -> identity code -> config cannot cycle.
 */
export const SOURCE_SCHEMAS = [StaticSourceSchema, LdapSourceSchema, OidcSourceSchema] as const;

/** One place people are authenticated against (and, for some types, enumerated from), told apart by `type`. */
export const IdentitySourceSchema = z.discriminatedUnion("type", SOURCE_SCHEMAS);
/** Any source's configuration. */
export type IdentitySourceConfig = z.infer<typeof IdentitySourceSchema>;
/** The source types there are (`static`, `ldap`, ...). */
export type SourceType = IdentitySourceConfig["type"];
/** The configuration of the source type `T`. */
export type SourceConfigOf<T extends SourceType> = Extract<IdentitySourceConfig, { type: T }>;
