import type { Store } from "../store/index.js";
import { LdapSource, type LdapSourceOptions } from "./ldap/index.js";
import { OidcSource } from "./oidc/index.js";
import { SamlSource } from "./saml/index.js";
import type { SourceConfigOf, SourceType } from "./schemas.js";
import type { IdentitySource } from "./source.js";
import { StaticSource } from "./static/index.js";

/** What every source may be built with, beyond its own configuration. */
export interface SourceContext {
  /** When the configuration file was last changed (ms): static sources listed from it compare reloads by it. */
  generation?: number;
  /** The shared store, for sources that keep login state across processes (request ids, replay caches). */
  store?: Store;
  /** Archway's externally visible base URL, for sources whose upstream must be told where to send people back. */
  publicUrl?: string;
  /**
   * Hears why a directory refused a login (disabled, expired, locked, must change the password): for the operator's
   * log only, as the person always reads the same refusal.
   */
  onLoginRefused?: (sourceId: string, refusal: LoginRefusal) => void;
}

/** Why a directory refused a login (see {@link SourceContext.onLoginRefused}). */
export type LoginRefusal = Parameters<NonNullable<LdapSourceOptions["onRefusal"]>>[0];

/** Builds one source of type `T` from its configuration. */
export type SourceFactory<T extends SourceType> = (config: SourceConfigOf<T>, ctx: SourceContext) => IdentitySource;

/**
 * Every identity source type's code, one line each, keyed by the `type` of its schema in schemas.ts (the other half
 * of the registry): a type listed there without a line here does not compile. Adding a source type is its folder
 * under src/identity/ (schema.ts, its source, index.ts) plus its line in each half.
 */
export const SOURCE_TYPES: { readonly [T in SourceType]: SourceFactory<T> } = {
  static: (config, ctx) => new StaticSource(config, ctx),
  ldap: (config, ctx) =>
    new LdapSource(config, {
      ...(ctx.onLoginRefused ? { onRefusal: (r) => ctx.onLoginRefused?.(config.id, r) } : {}),
    }),
  oidc: (config) => new OidcSource(config),
  saml: (config, ctx) => new SamlSource(config, ctx),
};

/** Builds the source a configuration describes. */
export function createSource(config: SourceConfigOf<SourceType>, ctx: SourceContext = {}): IdentitySource {
  // The mapped type pairs each type with its own factory; indexing by a union loses that pairing, hence the cast.
  const create = SOURCE_TYPES[config.type] as (
    config: SourceConfigOf<SourceType>,
    ctx: SourceContext,
  ) => IdentitySource;
  return create(config, ctx);
}
