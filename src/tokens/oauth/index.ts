/** Archway as an OAuth 2.0 / OpenID Provider: clients and the grant records kept in the store. */
export { ClientAuthLimiter, type ClientLimit } from "./client-auth-limit.js";
export { type ClientAuthentication, OAuthClients, type OAuthClientsOptions } from "./clients.js";
export { AuthorizationCodes, type CodeGrant, type IssuedForCode, type Redeemed } from "./codes.js";
export { DeviceCodes, type DevicePoll, type DeviceRequest, normalizeUserCode } from "./device.js";
export { digestOf, type Grant, GrantSchema, randomToken } from "./grants.js";
export { type ClientGrant, type OidcIssuerOptions, OidcTokenIssuer } from "./issue.js";
export { type RefreshCheck, type RefreshGrant, RefreshTokens, type Rotated } from "./refresh.js";
export { WorkGate } from "./work-gate.js";
