/**
 * WebAuthn passkeys and security keys: ceremonies ({@link Passkeys}), credentials sealed in the store
 * ({@link PasskeyCredentials}), single-use challenges ({@link PasskeyChallenges}), the counter and `amr` rules.
 */
export {
  CHALLENGE_TTL_MS,
  type ChallengePurpose,
  type ChallengeState,
  challengeOf,
  PasskeyChallenges,
} from "./challenges.js";
export {
  MAX_PASSKEYS,
  PasskeyCredentials,
  type PasskeyLists,
  passkeyOwnerKey,
  SealedPasskeyLists,
  type ValueSealer,
} from "./credentials.js";
export { credentialIdOf, FactorPasskeyLists, passkeyFactorId, webauthnKind } from "./factor-lists.js";
export {
  counterAccepted,
  type PasskeyOwner,
  PasskeyOwnerSchema,
  type PasskeyRecord,
  PasskeyRecordSchema,
  type PasskeyUse,
  passkeyAmr,
} from "./record.js";
export { parseAuthenticationResponse, parseRegistrationResponse } from "./responses.js";
export {
  type CeremonyContext,
  type PasskeySignIn,
  Passkeys,
  type RelyingParty,
  relyingPartyOf,
  userHandleOf,
} from "./service.js";
