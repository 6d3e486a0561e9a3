/** The upstream OpenID Provider source: authorization code with PKCE, refresh, RP-initiated and back-channel logout. */
export { type OidcSourceConfig, OidcSourceSchema } from "./schema.js";
export { claimAt, OidcSource } from "./source.js";
