import type { FactorView } from "./factor.js";

/** Per identity source: whether a second factor is asked (`identity.sources[].mfa`). */
export type MfaMode = "required" | "optional" | "off";

/**
 * What a sign-in must still do after the first factor: nothing, a second factor (`verify`), or enrol one before
 * any session starts (`enrol`: the source requires it and the person has none). `optional` asks exactly the people
 * who enrolled; `off` never asks, whatever the person enrolled.
 */
export type SecondStep = "none" | "verify" | "enrol";

/** The second step for a person of a source in `mode` who holds `factors`. Pure. */
export function secondStep(mode: MfaMode, factors: readonly Pick<FactorView, "kind">[]): SecondStep {
  if (mode === "off") return "none";
  const enrolled = factors.some((f) => f.kind !== "recovery");
  if (enrolled) return "verify";
  return mode === "required" ? "enrol" : "none";
}
