/**
 * Tokens: Archway's own JWTs (signing keys shared through the store, rotation with overlap, JWKS, revocation).
 * The per-cloud Keystone token broker joins here once the OpenStack client lands.
 */

export {
  type AppCredentialRecord,
  ApplicationCredentials,
  type CreatedAppCredential,
} from "./app-credentials.js";
export { type BrokeredToken, dropBrokeredTokens, TokenBroker } from "./broker.js";
export {
  type Entitlements,
  entitledProjects,
  entitlementsFrom,
  entitlementsOf,
  FACADE_AUDIENCE,
  FACADE_DOMAIN,
  type FacadeProject,
  facadeProjectId,
  type ProjectScope,
  projectInCloud,
  projectScopeId,
} from "./entitlements.js";
export { CLOUD_PROVISIONING, JustInTime, ProvisioningPending } from "./just-in-time.js";
export { KeyRing, type SigningAlgorithm, type SigningKey, type VerificationKey } from "./keyring.js";
export { loopSaturation } from "./loop-saturation.js";
export {
  AuthorizationCodes,
  type ClientAuthentication,
  type ClientGrant,
  type CodeGrant,
  DeviceCodes,
  type DevicePoll,
  type DeviceRequest,
  type Grant,
  normalizeUserCode,
  OAuthClients,
  type OAuthClientsOptions,
  OidcTokenIssuer,
  RefreshTokens,
} from "./oauth/index.js";
export { isSealed, type Opened, Sealer, storeSealer } from "./sealed.js";
export {
  IdentitySessions,
  type Session,
  type SessionEndHook,
  type SessionStart,
} from "./sessions/index.js";
export { ACCESS_TOKEN_TYPE, type ArchwayClaims, auditChain, type IssuedToken, TokenService } from "./tokens.js";
