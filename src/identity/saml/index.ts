/** The SAML 2.0 upstream source: SP-initiated login, SP metadata, IdP metadata with rollover, single logout. */
export { type SamlSourceConfig, SamlSourceSchema } from "./schema.js";
export { SamlSource } from "./source.js";
