import type { FactorKind, FactorKindName } from "./factor.js";
import { recoveryKind } from "./recovery.js";
import { totpKind } from "./totp.js";
import { webauthnKind } from "./webauthn/factor-lists.js";

/** Every factor kind by name; a kind missing here does not compile. */
export const KINDS: { readonly [K in FactorKindName]: FactorKind } = {
  totp: totpKind,
  recovery: recoveryKind,
  webauthn: webauthnKind,
};
