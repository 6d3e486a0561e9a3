import { describe, expect, it } from "vitest";
import {
  FACTOR_KIND_IMPLEMENTATIONS,
  type FactorRecord,
  hashRecoveryCode,
  newRecoveryCodes,
  normalizeRecoveryCode,
  secondStep,
} from "../../../../src/identity/index.js";

const recovery = FACTOR_KIND_IMPLEMENTATIONS.recovery;

function record(codes: string[]): FactorRecord {
  return {
    id: "r",
    kind: "recovery",
    label: "recovery codes",
    createdAt: 0,
    secret: codes.map(hashRecoveryCode).join(" "),
    state: {},
  };
}

describe("recovery codes", () => {
  it("makes 10 distinct codes of the form xxxxx-xxxxx", () => {
    const codes = newRecoveryCodes();
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const code of codes) expect(code).toMatch(/^[a-z2-9]{5}-[a-z2-9]{5}$/);
  });

  it("folds case, spaces and dashes", () => {
    expect(normalizeRecoveryCode(" ABCDE-fghjk ")).toBe("abcdefghjk");
    expect(hashRecoveryCode("ABCDE fghjk")).toBe(hashRecoveryCode("abcde-fghjk"));
  });

  it("keeps only digests, and matches each code once", () => {
    const codes = newRecoveryCodes();
    const r = record(codes);
    expect(r.secret).not.toContain(codes[0]);
    const first = recovery.check(r, codes[0] as string, 0);
    expect(first.matched).toBe(true);
    if (!first.matched) return;
    const used = { ...r, state: first.state };
    expect(recovery.check(used, codes[0] as string, 0).matched).toBe(false);
    expect(recovery.check(used, codes[1] as string, 0).matched).toBe(true);
    expect(recovery.describe(used).remaining).toBe(9);
    expect(recovery.check(r, "zzzzz-zzzzz", 0).matched).toBe(false);
  });
});

describe("the second step a sign-in must take", () => {
  const totp = { kind: "totp" as const };
  const codes = { kind: "recovery" as const };
  it("off never asks; optional asks those who enrolled; required forces enrolment", () => {
    expect(secondStep("off", [totp])).toBe("none");
    expect(secondStep("optional", [])).toBe("none");
    expect(secondStep("optional", [totp, codes])).toBe("verify");
    expect(secondStep("required", [totp])).toBe("verify");
    expect(secondStep("required", [])).toBe("enrol");
    // Recovery codes alone are not a factor.
    expect(secondStep("required", [codes])).toBe("enrol");
    expect(secondStep("optional", [codes])).toBe("none");
  });
});
