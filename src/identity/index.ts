/**
 * Identity sources: who a person is. One small interface per capability (password, lookup, enumerate,
 * redirect), one file per source type. `createSources` builds them from configuration.
 */
import type { IdentitySourceConfig } from "../config/index.js";
import { LdapSource } from "./ldap/index.js";
import { OidcSource } from "./oidc.js";
import type { IdentitySource } from "./source.js";
import { StaticSource } from "./static.js";

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
export { claimAt, OidcSource } from "./oidc.js";
export { hashPassword, verifyPassword } from "./scrypt.js";
export * from "./source.js";
export { StaticSource } from "./static.js";
export {
  MAX_STORED_KEYS,
  parseOpenSshKey,
  type StoredKey,
  StoredKeySchema,
  StoredKeys,
} from "./stored-keys.js";
export { isUpstreamGrantSource, type RefreshFailureAction, type UpstreamGrantSource } from "./upstream-grant.js";

/** Builds every configured source, in configuration order (`generation`: when the config file last changed). */
export function createSources(
  configs: readonly IdentitySourceConfig[],
  opts: { generation?: number } = {},
): IdentitySource[] {
  return configs.map((config): IdentitySource => {
    if (config.type === "static") return new StaticSource(config, opts);
    if (config.type === "ldap") return new LdapSource(config);
    return new OidcSource(config);
  });
}
