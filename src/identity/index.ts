/**
 * Identity sources: who a person is. One small interface per capability (password, lookup, enumerate,
 * redirect), one folder per source type (its schema beside its code), registered in schemas.ts and registry.ts.
 * `createSources` builds them from configuration.
 */
import { createSource, type SourceContext } from "./registry.js";
import type { IdentitySourceConfig } from "./schemas.js";
import type { IdentitySource } from "./source.js";

export {
  BACKCHANNEL_LOGOUT_EVENT,
  type BackchannelLogoutSource,
  isBackchannelLogoutSource,
  type LogoutClaims,
  verifyLogoutToken,
} from "./backchannel-logout.js";
export {
  AttemptGuard,
  addressKey,
  foldUsername,
  type LimitScope,
  type LockoutRecord,
  LoginGuard,
  retryAfterOf,
  TooManyAttempts,
  type UnlockResult,
  type UnlockVia,
} from "./guard/index.js";
export { type Identity, type IdentityInput, IdentitySchema, identityId } from "./identity.js";
export { LdapSource } from "./ldap/index.js";
export * from "./mfa/index.js";
export {
  AMR,
  ARCHWAY_ACR,
  archwayAcr,
  keystoneMethods,
  satisfiesMfa,
  upstreamAmr,
} from "./mfa/strength.js";
export * from "./mfa/webauthn/index.js";
export { type OffboardedEntry, OffboardedPeople } from "./offboarded.js";
export { claimAt, OidcSource } from "./oidc/index.js";
export { createSource, SOURCE_TYPES, type SourceContext, type SourceFactory } from "./registry.js";
export {
  type IdentitySourceConfig,
  IdentitySourceSchema,
  SOURCE_SCHEMAS,
  type SourceConfigOf,
  type SourceType,
} from "./schemas.js";
export { hashPassword, verifyPassword } from "./scrypt.js";
export * from "./source.js";
export { StaticSource } from "./static/index.js";
export {
  MAX_STORED_KEYS,
  parseOpenSshKey,
  type StoredKey,
  StoredKeySchema,
  StoredKeys,
} from "./stored-keys.js";
export { isUpstreamGrantSource, type RefreshFailureAction, type UpstreamGrantSource } from "./upstream-grant.js";

/**
 * Builds every configured source, in configuration order, through the registry (`ctx.generation`: when the config
 * file last changed; `ctx.store`, `ctx.publicUrl`: for sources that keep login state or tell an upstream where to
 * send people back).
 */
export function createSources(configs: readonly IdentitySourceConfig[], ctx: SourceContext = {}): IdentitySource[] {
  return configs.map((config) => createSource(config, ctx));
}
