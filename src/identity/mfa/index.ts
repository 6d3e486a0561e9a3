/**
 * Second factors: one file per kind (totp.ts, recovery.ts; a kind implements {@link FactorKind} and joins
 * kinds.ts), each person's factors sealed in the store, the per-source mode (`mfa: required | optional | off`),
 * first steps waiting for their second (web form, Keystone auth receipt), and {@link MfaService} over them.
 */
export {
  FACTOR_KINDS,
  type FactorCheck,
  type FactorKind,
  type FactorKindName,
  type FactorRecord,
  FactorRecordSchema,
  type FactorView,
} from "./factor.js";
export { FactorStore, type RecordSealer } from "./factors-store.js";
export { KINDS as FACTOR_KIND_IMPLEMENTATIONS } from "./kinds.js";
export { type MfaMode, type SecondStep, secondStep } from "./mode.js";
export { PENDING_TTL_MS, type PendingSignIn, PendingSignIns } from "./pending.js";
export { hashRecoveryCode, newRecoveryCodes, normalizeRecoveryCode, RECOVERY_CODE_COUNT } from "./recovery.js";
export { MfaService, type TotpEnrolment, type VerifiedFactor } from "./service.js";
export { matchTotp, newTotpSecret, otpauthUri, TOTP_PERIOD_SECONDS, totpCode } from "./totp.js";
