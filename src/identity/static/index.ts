/** The static source: users listed in the config file with scrypt hashes. */
export { type StaticSourceConfig, StaticSourceSchema, type StaticUser, StaticUserSchema } from "./schema.js";
export { StaticSource } from "./source.js";
